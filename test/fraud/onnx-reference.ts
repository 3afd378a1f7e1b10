import { readFileSync } from 'node:fs';
import { onnx } from 'onnx-proto';
import { attr, encodeModel, tensorInfo } from '../../tools/fraud-training/onnx-writer';

/**
 * An independent reading of an ONNX tree-ensemble model: decodes the protobuf, takes the
 * TreeEnsembleRegressor's attributes as ONNX defines them, and evaluates the trees in plain
 * TypeScript (float32 comparisons, BRANCH_LEQ), then Sigmoid. Nothing here comes from the trainer.
 */
export interface ReferenceModel {
  score(row: ArrayLike<number>): number;
  readonly trees: number;
  readonly featureCount: number;
}

export function readReferenceModel(file: string): ReferenceModel {
  const model = onnx.ModelProto.decode(readFileSync(file));
  const graph = model.graph!;
  const ops = graph.node!.map((n) => n.opType);
  if (ops.join(',') !== 'TreeEnsembleRegressor,Sigmoid,Reshape') throw new Error(`unexpected graph ${ops.join(',')}`);
  const attrs = new Map(graph.node![0]!.attribute!.map((a) => [a.name!, a]));
  const ints = (name: string) => (attrs.get(name)!.ints ?? []).map(Number);
  const floats = (name: string) => attrs.get(name)!.floats ?? [];
  const strings = (name: string) => (attrs.get(name)!.strings ?? []).map((s) => new TextDecoder().decode(s));
  const treeIds = ints('nodes_treeids');
  const nodeIds = ints('nodes_nodeids');
  const featureIds = ints('nodes_featureids');
  const values = floats('nodes_values');
  const modes = strings('nodes_modes');
  const yes = ints('nodes_truenodeids');
  const no = ints('nodes_falsenodeids');
  const base = floats('base_values')[0] ?? 0;
  const node = new Map<string, number>();
  for (const [i, t] of treeIds.entries()) node.set(`${t}:${nodeIds[i]}`, i);
  const leaf = new Map<string, number>();
  const targetTrees = ints('target_treeids');
  const targetNodes = ints('target_nodeids');
  const weights = floats('target_weights');
  for (const [i, t] of targetTrees.entries()) {
    leaf.set(`${t}:${targetNodes[i]}`, (leaf.get(`${t}:${targetNodes[i]}`) ?? 0) + weights[i]!);
  }
  const trees = [...new Set(treeIds)];
  const featureDim = graph.input![0]!.type!.tensorType!.shape!.dim![1]!.dimValue;
  return {
    trees: trees.length,
    featureCount: Number(featureDim),
    score(row) {
      let margin = 0;
      for (const tree of trees) {
        let at = node.get(`${tree}:0`)!;
        while (modes[at] !== 'LEAF') {
          if (modes[at] !== 'BRANCH_LEQ') throw new Error(`mode ${modes[at]} not handled`);
          const next = Math.fround(row[featureIds[at]!]!) <= Math.fround(values[at]!) ? yes[at]! : no[at]!;
          at = node.get(`${tree}:${next}`)!;
        }
        margin += leaf.get(`${tree}:${nodeIds[at]}`) ?? 0;
      }
      return 1 / (1 + Math.exp(-(margin + base)));
    },
  };
}

/**
 * A valid ONNX file that loads but fails at run time: it declares features as float[N, 3] and
 * Sigmoid's output as the score, so the scorer's [N, 17] input is refused by ONNX Runtime.
 */
export function wrongShapeModel(): Uint8Array {
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  return encodeModel({
    nodes: [{ opType: 'Sigmoid', name: 'sigmoid', input: ['features'], output: ['score'] }],
    inputs: [tensorInfo('features', FLOAT, ['N', 3])],
    outputs: [tensorInfo('score', FLOAT, ['N', 3])],
  });
}

/**
 * A valid model whose run never ends in practice: a Loop of 2^62 iterations (each an Identity of
 * the features) before the score. `session.run()` then stays in native code, as a stalled model
 * does, and only killing its process ends it.
 */
export function stallingModel(featureCount: number): Uint8Array {
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const INT64 = onnx.TensorProto.DataType.INT64;
  const BOOL = onnx.TensorProto.DataType.BOOL;
  const body: onnx.IGraphProto = {
    name: 'spin',
    node: [
      { opType: 'Identity', name: 'keep_going', input: ['cond_in'], output: ['cond_out'] },
      { opType: 'Identity', name: 'same_features', input: ['carried_in'], output: ['carried_out'] },
    ],
    input: [
      tensorInfo('iteration', INT64, []),
      tensorInfo('cond_in', BOOL, []),
      tensorInfo('carried_in', FLOAT, ['N', featureCount]),
    ],
    output: [tensorInfo('cond_out', BOOL, []), tensorInfo('carried_out', FLOAT, ['N', featureCount])],
  };
  return encodeModel({
    nodes: [
      {
        opType: 'Loop',
        name: 'stall',
        input: ['trips', 'always', 'features'],
        output: ['spun'],
        attribute: [{ name: 'body', type: onnx.AttributeProto.AttributeType.GRAPH, g: body }],
      },
      {
        opType: 'ReduceMax',
        name: 'one_per_row',
        input: ['spun'],
        output: ['max'],
        attribute: [attr.ints('axes', [1]), attr.int('keepdims', 0)],
      },
      { opType: 'Sigmoid', name: 'sigmoid', input: ['max'], output: ['score'] },
    ],
    inputs: [tensorInfo('features', FLOAT, ['N', featureCount])],
    outputs: [tensorInfo('score', FLOAT, ['N'])],
    initializers: [
      { name: 'trips', dataType: INT64, dims: [], int64Data: [2 ** 62] },
      { name: 'always', dataType: BOOL, dims: [], int32Data: [1] },
    ],
  });
}
