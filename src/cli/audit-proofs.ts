import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createPublicKey } from 'node:crypto';
import { ChainVerifier } from '../audit/chain-verifier';
import { keyIdOf } from '../audit/digest';
import { leafHash } from '../audit/merkle/hashes';
import { TreeBuilder } from '../audit/merkle/tree-builder';
import { verifyConsistency, verifyInclusion } from '../audit/merkle/verify';
import { type SignedTreeHead, treeHeadProblem } from '../audit/tree-head';
import { canonicalEventText, canonicalJson } from '../eventstore/hash-chain';
import type { StoredChainLink } from '../eventstore/hash-chain';
import { ProgressBar } from './progress';

/**
 * Offline checks of the Merkle proofs (ADR 0021): nothing but files the auditor holds (tree heads,
 * proofs, an export) and the public keys. Each says what it checked, and exits 1 when a check fails.
 */

export class ProofUsageError extends Error {}

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ProofUsageError(
      `${file} (${what}) is not a JSON file: ${error instanceof Error ? error.message : error}`,
    );
  }
}

/**
 * Public keys by id, from GET /v1/audit/public-keys (`{keys: [...]}`), GET /v1/audit/public-key
 * (`{keyId, publicKey}`) or a PEM file (named by its fingerprint).
 */
export function readPublicKeys(file: string): Map<string, string> {
  const text = readFileSync(file, 'utf8');
  if (!text.trimStart().startsWith('{')) return new Map([[keyIdOf(createPublicKey(text)), text]]);
  const parsed = JSON.parse(text) as {
    keys?: Array<{ keyId?: unknown; publicKey?: unknown }>;
    keyId?: unknown;
    publicKey?: unknown;
  };
  const entries = parsed.keys ?? [parsed];
  const keys = new Map<string, string>();
  for (const entry of entries) {
    if (typeof entry.keyId !== 'string' || typeof entry.publicKey !== 'string')
      throw new ProofUsageError(`${file}: every key needs keyId and publicKey`);
    keys.set(entry.keyId, entry.publicKey);
  }
  return keys;
}

function acceptedHead(
  file: string,
  keys: Map<string, string>,
  say: (line: string) => void,
): SignedTreeHead | undefined {
  const head = readJson(file, 'a signed tree head');
  const refused = treeHeadProblem(head, keys);
  if (refused) {
    say(`FAIL  tree head ${file}: ${refused}`);
    return undefined;
  }
  const h = head as SignedTreeHead;
  say(`ok    tree head ${file}: ${h.treeSize} events, root ${h.rootHash}, signed by key ${h.keyId} at ${h.signedAt}`);
  return h;
}

const unhex = (text: unknown): Buffer => {
  if (typeof text !== 'string' || !/^[0-9a-f]{64}$/.test(text))
    throw new ProofUsageError(`${String(text)} is not a 32-byte hash in hex`);
  return Buffer.from(text, 'hex');
};

/** `inclusion --proof p.json --tree-head h.json --public-keys k.json`: one event is in the signed tree. */
export function inclusionCommand(args: string[], say = console.log): number {
  const { values } = parseArgs({
    args,
    options: { proof: { type: 'string' }, 'tree-head': { type: 'string' }, 'public-keys': { type: 'string' } },
  });
  if (!values.proof || !values['tree-head'] || !values['public-keys'])
    throw new ProofUsageError('inclusion needs --proof, --tree-head and --public-keys');
  const head = acceptedHead(values['tree-head'], readPublicKeys(values['public-keys']), say);
  if (!head) return 1;
  const proof = readJson(values.proof, 'an inclusion proof') as {
    leafIndex?: unknown;
    treeSize?: unknown;
    leaf?: unknown;
    auditPath?: unknown;
  };
  if (!Number.isSafeInteger(proof.leafIndex) || typeof proof.leaf !== 'string' || !Array.isArray(proof.auditPath))
    throw new ProofUsageError(`${values.proof} is not an inclusion proof (leafIndex, leaf, auditPath)`);
  if (proof.treeSize !== head.treeSize) {
    say(`FAIL  the proof is for a tree of ${String(proof.treeSize)} events, the signed head for ${head.treeSize}`);
    return 1;
  }
  const leaf = Buffer.from(proof.leaf, 'base64');
  let described = `leaf ${proof.leafIndex}`;
  try {
    const event = JSON.parse(leaf.toString('utf8')) as { position?: string; type?: string; eventId?: string };
    described = `event ${event.eventId} (${event.type}, position ${event.position})`;
  } catch {
    // not an event's JSON: the proof fails below anyway, or proves bytes we cannot describe
  }
  // The leaf hash is recomputed from the leaf's bytes: the proof's own leafHash is not trusted.
  const ok = verifyInclusion(
    BigInt(proof.leafIndex as number),
    BigInt(head.treeSize),
    leafHash(leaf),
    proof.auditPath.map(unhex),
    Buffer.from(head.rootHash, 'hex'),
  );
  say(
    ok
      ? `ok    ${described} is leaf ${proof.leafIndex} of the signed tree: its ${proof.auditPath.length}-hash audit path leads from SHA-256(0x00 ‖ leaf) to root ${head.rootHash} (RFC 9162 §2.1.3.2)`
      : `FAIL  ${described}: the audit path from its leaf does not lead to the signed root ${head.rootHash}: the event or the proof is not the one signed`,
  );
  return ok ? 0 : 1;
}

/** `consistency --proof c.json --from h1.json --to h2.json --public-keys k.json`: the later tree extends the earlier one. */
export function consistencyCommand(args: string[], say = console.log): number {
  const { values } = parseArgs({
    args,
    options: {
      proof: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'public-keys': { type: 'string' },
    },
  });
  if (!values.proof || !values.from || !values.to || !values['public-keys'])
    throw new ProofUsageError('consistency needs --proof, --from, --to and --public-keys');
  const keys = readPublicKeys(values['public-keys']);
  const earlier = acceptedHead(values.from, keys, say);
  const later = acceptedHead(values.to, keys, say);
  if (!earlier || !later) return 1;
  const proof = readJson(values.proof, 'a consistency proof') as { from?: unknown; to?: unknown; proof?: unknown };
  if (!Array.isArray(proof.proof))
    throw new ProofUsageError(`${values.proof} is not a consistency proof (from, to, proof)`);
  if (proof.from !== earlier.treeSize || proof.to !== later.treeSize) {
    say(
      `FAIL  the proof is from ${String(proof.from)} to ${String(proof.to)} events, the heads are ${earlier.treeSize} and ${later.treeSize}`,
    );
    return 1;
  }
  const ok = verifyConsistency(
    BigInt(earlier.treeSize),
    BigInt(later.treeSize),
    Buffer.from(earlier.rootHash, 'hex'),
    Buffer.from(later.rootHash, 'hex'),
    proof.proof.map(unhex),
  );
  say(
    ok
      ? `ok    the tree of ${later.treeSize} events extends the tree of ${earlier.treeSize}: nothing in the first ${earlier.treeSize} events changed between the two heads (RFC 9162 §2.1.4.2, ${proof.proof.length} hashes)`
      : `FAIL  the tree of ${later.treeSize} events is not an extension of the signed tree of ${earlier.treeSize}: history before event ${earlier.treeSize + 1} was rewritten, or the proof is not theirs`,
  );
  return ok ? 0 : 1;
}

/** One line of `npm run audit -- export`, as the chain walk reads it. */
export function exportedLink(line: string): StoredChainLink {
  const event = JSON.parse(line) as Record<string, unknown>;
  return {
    position: BigInt(event.position as string),
    eventId: String(event.eventId),
    streamId: String(event.streamId),
    revision: BigInt(event.revision as string),
    type: String(event.type),
    recordedAt: String(event.recordedAt),
    dataJson: canonicalJson(event.data),
    metadataJson: canonicalJson(event.metadata),
    prevHash: String(event.prevHash),
    hash: String(event.hash),
  };
}

/**
 * `verify-tree --in ledger.jsonl --tree-head h.json --public-keys k.json`: rebuilds the Merkle
 * root of the export's first treeSize events (keeping only the tree's right edge: memory O(log n))
 * and walks their hash chain; both must hold, and the root must be the signed one.
 */
export async function verifyTreeCommand(args: string[], say = console.log): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { in: { type: 'string' }, 'tree-head': { type: 'string' }, 'public-keys': { type: 'string' } },
  });
  if (!values.in || !values['tree-head'] || !values['public-keys'])
    throw new ProofUsageError('verify-tree needs --in, --tree-head and --public-keys');
  const head = acceptedHead(values['tree-head'], readPublicKeys(values['public-keys']), say);
  if (!head) return 1;
  const builder = new TreeBuilder(0, []);
  const chain = new ChainVerifier();
  const bar = new ProgressBar('verify-tree');
  const lines = createInterface({ input: createReadStream(values.in), crlfDelay: Number.POSITIVE_INFINITY });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === '') continue;
    if (builder.size === head.treeSize) break;
    let link: StoredChainLink;
    try {
      link = exportedLink(line);
    } catch (error) {
      throw new ProofUsageError(
        `${values.in} line ${lineNumber} is not an exported event: ${error instanceof Error ? error.message : error}`,
      );
    }
    chain.push(link);
    builder.append(leafHash(Buffer.from(canonicalEventText(link, link.dataJson, link.metadataJson), 'utf8')));
    bar.update(builder.size, head.treeSize);
  }
  bar.done(builder.size, head.treeSize);
  const report = chain.finish();
  let ok = true;
  if (builder.size < head.treeSize) {
    say(`FAIL  the export holds ${builder.size} events, the signed head covers ${head.treeSize}`);
    ok = false;
  }
  if (report.intact)
    say(`ok    hash chain: ${report.eventsChecked} events chain from genesis to position ${report.last.position}`);
  else {
    ok = false;
    say(
      `FAIL  hash chain: ${report.breaks.length} problem(s); the first at position ${report.firstBroken!.position}: ${report.firstBroken!.reason}: ${report.firstBroken!.detail}`,
    );
  }
  const root = builder.root().toString('hex');
  if (root === head.rootHash)
    say(`ok    Merkle root of the export's first ${builder.size} events is the signed root ${root}`);
  else {
    ok = false;
    say(
      `FAIL  Merkle root of the export's first ${builder.size} events is ${root}, not the signed ${head.rootHash}: the export is not the log that was signed`,
    );
  }
  return ok ? 0 : 1;
}
