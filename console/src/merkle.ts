/**
 * Checks, in the browser, what the ledger's proofs claim (RFC 9162, as docs/contract.md says):
 * an event's leaf is in the tree whose root a signed tree head names, and the head's Ed25519
 * signature is one of the ledger's keys. Nothing here trusts the ledger's own verdict.
 */
const hex = (bytes: ArrayBuffer | Uint8Array): string =>
  [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');
const fromHex = (text: string): Uint8Array<ArrayBuffer> =>
  new Uint8Array((text.match(/../g) ?? []).map((pair) => Number.parseInt(pair, 16)));
export const fromBase64 = (text: string): Uint8Array<ArrayBuffer> =>
  Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** WebCrypto exists only in secure contexts (https, or localhost). */
export const canVerify = (): boolean => globalThis.crypto?.subtle !== undefined;

async function sha256(...parts: Uint8Array[]): Promise<Uint8Array<ArrayBuffer>> {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', all));
}

export const leafHash = async (leaf: Uint8Array): Promise<string> => hex(await sha256(new Uint8Array([0]), leaf));

/** RFC 9162 §2.1.3.2: the root an inclusion path leads to from a leaf hash, or undefined if malformed. */
export async function rootFromInclusion(
  leafIndex: number,
  treeSize: number,
  leafHashHex: string,
  path: readonly string[],
): Promise<string | undefined> {
  if (leafIndex >= treeSize) return undefined;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = fromHex(leafHashHex);
  const node = new Uint8Array([1]);
  for (const p of path) {
    if (sn === 0) return undefined;
    const sibling = fromHex(p);
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(node, sibling, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await sha256(node, r, sibling);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? hex(r) : undefined;
}

/** Ed25519 over `ledger-tree-head:v1:<treeSize>:<rootHash>` with a PEM public key; undefined: not checkable here. */
export async function verifyTreeHeadSignature(
  head: { treeSize: number; rootHash: string; signature: string },
  publicKeyPem: string,
): Promise<boolean | undefined> {
  try {
    const der = fromBase64(publicKeyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''));
    const key = await crypto.subtle.importKey('spki', der, { name: 'Ed25519' }, false, ['verify']);
    const message = new TextEncoder().encode(`ledger-tree-head:v1:${head.treeSize}:${head.rootHash}`);
    return await crypto.subtle.verify({ name: 'Ed25519' }, key, fromHex(head.signature), message);
  } catch {
    return undefined; // this browser's WebCrypto has no Ed25519
  }
}
