import { mkdtempSync, readFileSync, rmSync, statSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SigningKeyError, loadKeyRing, parseSigningKeys } from './signing-keys';

const SEED_A = '11'.repeat(32);
const SEED_B = Buffer.alloc(32, 0x22).toString('base64');

describe('signing keys', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('LEDGER_SIGNING_KEYS: several keys with ids, the first signs', () => {
    const ring = loadKeyRing({
      LEDGER_SIGNING_KEYS: `k-2026b:${SEED_B}, k-2026a:${SEED_A}`,
      LEDGER_DATA_DIR: 'memory://',
    });
    expect(ring.source).toBe('LEDGER_SIGNING_KEYS');
    expect(ring.active.keyId).toBe('k-2026b');
    expect(ring.all.map((k) => k.keyId)).toEqual(['k-2026b', 'k-2026a']);
    expect(ring.all[0]!.publicKeyPem).not.toBe(ring.all[1]!.publicKeyPem);
  });

  it('keeps LEDGER_SIGNING_KEY working, named by the public key’s fingerprint as before', () => {
    const ring = loadKeyRing({ LEDGER_SIGNING_KEY: SEED_A, LEDGER_DATA_DIR: 'memory://' });
    expect(ring.source).toBe('LEDGER_SIGNING_KEY');
    expect(ring.active.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(ring.active.generated).toBe(false);
  });

  it.each([
    ['no id', SEED_A],
    ['bad id', `bad id:${SEED_A}`],
    ['repeated id', `a:${SEED_A},a:${SEED_A}`],
    ['short seed', `a:${'ab'.repeat(16)}`],
    ['not a key', 'a:secret-material-that-is-not-a-key'],
  ])('refuses %s without repeating the key material', (_why, value) => {
    let error: unknown;
    try {
      parseSigningKeys(value);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SigningKeyError);
    expect((error as Error).message).toMatch(/LEDGER_SIGNING_KEYS entry \d/);
    expect((error as Error).message).not.toContain('secret-material');
    expect((error as Error).message).not.toContain(SEED_A);
  });

  it('in the embedded default keeps a generated key in LEDGER_DATA_DIR (mode 0600) and signs with it after a restart', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ledger-keys-'));
    dirs.push(dir);
    const first = loadKeyRing({ LEDGER_DATA_DIR: dir });
    expect(first.source).toBe('data-dir');
    const file = path.join(dir, 'signing-key.pem');
    expect(first.file).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toContain('BEGIN PRIVATE KEY');
    const again = loadKeyRing({ LEDGER_DATA_DIR: dir });
    expect(again.active.keyId).toBe(first.active.keyId);
    // A loosened file is tightened again.
    chmodSync(file, 0o644);
    loadKeyRing({ LEDGER_DATA_DIR: dir });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('with a database server and no key, generates one for the process (its public part goes to the database)', () => {
    const a = loadKeyRing({ DATABASE_URL: 'postgres://x', LEDGER_DATA_DIR: './unused' });
    const b = loadKeyRing({ DATABASE_URL: 'postgres://x', LEDGER_DATA_DIR: './unused' });
    expect(a.source).toBe('generated');
    expect(a.active.keyId).not.toBe(b.active.keyId);
  });
});
