import { onnx } from 'onnx-proto';
import type { TreeEnsemble } from './tree-ensemble';

/**
 * Writes ONNX graphs with the protobuf types of `onnx-proto` (a development dependency: the
 * trainer and the tests use this, the service only reads .onnx files). Used for the shipped
 * model and for the broken models the tests need.
 */

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const A = onnx.AttributeProto.AttributeType;
const utf8 = (s: string) => new TextEncoder().encode(s);

export const attr = {
  int: (name: string, i: number): onnx.IAttributeProto => ({ name, type: A.INT, i }),
  float: (name: string, f: number): onnx.IAttributeProto => ({ name, type: A.FLOAT, f }),
  string: (name: string, s: string): onnx.IAttributeProto => ({ name, type: A.STRING, s: utf8(s) }),
  ints: (name: string, ints: number[]): onnx.IAttributeProto => ({ name, type: A.INTS, ints }),
  floats: (name: string, floats: number[]): onnx.IAttributeProto => ({ name, type: A.FLOATS, floats }),
  strings: (name: string, strings: string[]): onnx.IAttributeProto => ({
    name,
    type: A.STRINGS,
    strings: strings.map(utf8),
  }),
};

/** A tensor value: `dims` entries are sizes, or names for a dynamic dimension. */
export function tensorInfo(name: string, elemType: number, dims: Array<number | string>): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export interface GraphSpec {
  readonly nodes: onnx.INodeProto[];
  readonly inputs: onnx.IValueInfoProto[];
  readonly outputs: onnx.IValueInfoProto[];
  readonly initializers?: onnx.ITensorProto[];
  readonly metadata?: Record<string, string>;
  readonly docString?: string;
}

export function encodeModel(spec: GraphSpec): Uint8Array {
  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'ledger-fraud-trainer',
    producerVersion: '1',
    opsetImport: [
      { domain: '', version: 17 },
      { domain: 'ai.onnx.ml', version: 3 },
    ],
    docString: spec.docString ?? '',
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: 'fraud',
      node: spec.nodes,
      input: spec.inputs,
      output: spec.outputs,
      initializer: spec.initializers ?? [],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/**
 * The fraud model's graph: features float[N, F] → TreeEnsembleRegressor (sum of the trees'
 * leaves plus the base margin) → Sigmoid → Reshape → score float[N]. No ZipMap, no strings.
 */
export function treeEnsembleToOnnx(model: TreeEnsemble, metadata: Record<string, string>): Uint8Array {
  const n = {
    treeIds: [] as number[],
    nodeIds: [] as number[],
    featureIds: [] as number[],
    values: [] as number[],
    modes: [] as string[],
    yes: [] as number[],
    no: [] as number[],
    missingTrue: [] as number[],
  };
  const t = { treeIds: [] as number[], nodeIds: [] as number[], ids: [] as number[], weights: [] as number[] };
  model.trees.forEach((tree, treeId) => {
    tree.forEach((node, nodeId) => {
      n.treeIds.push(treeId);
      n.nodeIds.push(nodeId);
      n.missingTrue.push(0);
      if (node.kind === 'split') {
        n.featureIds.push(node.feature);
        n.values.push(Math.fround(node.threshold));
        n.modes.push('BRANCH_LEQ');
        n.yes.push(node.yes);
        n.no.push(node.no);
      } else {
        n.featureIds.push(0);
        n.values.push(0);
        n.modes.push('LEAF');
        n.yes.push(0);
        n.no.push(0);
        t.treeIds.push(treeId);
        t.nodeIds.push(nodeId);
        t.ids.push(0);
        t.weights.push(node.value);
      }
    });
  });
  const ensemble: onnx.INodeProto = {
    opType: 'TreeEnsembleRegressor',
    domain: 'ai.onnx.ml',
    name: 'trees',
    input: ['features'],
    output: ['margin'],
    attribute: [
      attr.string('aggregate_function', 'SUM'),
      attr.floats('base_values', [model.baseMargin]),
      attr.int('n_targets', 1),
      attr.ints('nodes_falsenodeids', n.no),
      attr.ints('nodes_featureids', n.featureIds),
      attr.ints('nodes_missing_value_tracks_true', n.missingTrue),
      attr.strings('nodes_modes', n.modes),
      attr.ints('nodes_nodeids', n.nodeIds),
      attr.ints('nodes_treeids', n.treeIds),
      attr.ints('nodes_truenodeids', n.yes),
      attr.floats('nodes_values', n.values),
      attr.string('post_transform', 'NONE'),
      attr.ints('target_ids', t.ids),
      attr.ints('target_nodeids', t.nodeIds),
      attr.ints('target_treeids', t.treeIds),
      attr.floats('target_weights', t.weights),
    ],
  };
  return encodeModel({
    nodes: [
      ensemble,
      { opType: 'Sigmoid', name: 'sigmoid', input: ['margin'], output: ['probability'] },
      { opType: 'Reshape', name: 'flatten', input: ['probability', 'score_shape'], output: ['score'] },
    ],
    initializers: [{ name: 'score_shape', dataType: INT64, dims: [1], int64Data: [-1] }],
    inputs: [tensorInfo('features', FLOAT, ['N', model.featureCount])],
    outputs: [tensorInfo('score', FLOAT, ['N'])],
    metadata,
    docString: 'Fraud score of a ledger transfer: gradient-boosted trees over the features of src/fraud/features.ts',
  });
}
