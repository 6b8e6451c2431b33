// Signed archives and attestations, offline: `repro key`, `export --sign`, `verify` / `reproduce` that
// say who signed, a consistently rewritten archive refused (exit 5), and `reproduce --sign`'s in-toto
// statement. Signatures are checked a second time by an independent implementation: Debian's
// python3-cryptography (Ed25519) with DSSE's pre-authentication encoding written out below in Python.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repro, scriptProject, tempDir } from '../support/index.js';
import { pae, signLock } from '../../src/share/attest.js';
import { loadSigningKey } from '../../src/share/keys.js';

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

function tar(cwd: string, ...args: string[]): string {
  const r = spawnSync('tar', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

// The independent check: DSSE v1 PAE and Ed25519 from python3-cryptography, nothing of repro's.
const PYTHON = '/usr/bin/python3';
const VERIFY_PY = `
import base64, hashlib, json, sys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
env = json.load(open(sys.argv[1]))
pub = json.load(open(sys.argv[2]))
raw = base64.b64decode(pub["publicKey"])
payload = base64.b64decode(env["payload"])
t = env["payloadType"].encode()
pae = b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)
ok = False
for s in env["signatures"]:
    if s.get("keyid") != hashlib.sha256(raw).hexdigest():
        continue
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(base64.b64decode(s["sig"]), pae)
        ok = True
    except InvalidSignature:
        pass
print(json.dumps({"ok": ok, "keyid": hashlib.sha256(raw).hexdigest(), "payloadType": env["payloadType"], "payload": base64.b64encode(payload).decode()}))
`;
const pythonReason = (() => {
  const r = spawnSync(PYTHON, ['-c', 'import cryptography.hazmat.primitives.asymmetric.ed25519'], { encoding: 'utf8' });
  return r.status === 0 ? null : `${PYTHON} cannot import cryptography's Ed25519 (${(r.stderr || r.error?.message || '').trim().split('\n').pop()}): install python3-cryptography`;
})();
if (pythonReason) console.log(`skipping the independent signature checks: ${pythonReason}`);

function pythonVerify(envelope: string, publicKey: string): { ok: boolean; keyid: string; payloadType: string; payload: Buffer } {
  const r = spawnSync(PYTHON, ['-c', VERIFY_PY, envelope, publicKey], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python: ${r.stderr}`);
  const out = JSON.parse(r.stdout);
  return { ...out, payload: Buffer.from(out.payload, 'base64') };
}

describe('DSSE pre-authentication encoding', () => {
  it('is the one of the DSSE spec (protocol.md test vector)', () => {
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
    // Lengths count bytes, not characters.
    expect(pae('t', Buffer.from('é')).toString()).toBe('DSSEv1 1 t 2 é');
  });
});

describe('signed archives and attestations', { timeout: 180_000 }, () => {
  const root = tempDir('repro-attest-');
  const alice = join(root, 'alice-keys'); // the exporter's key folder
  const bob = join(root, 'bob-keys'); // the evaluator's
  const proj = scriptProject(join(root, 'proj'), { name: 'attested', scripts: 'scripts' });
  const asAlice = (args: string[], cwd = proj) => repro(args, { cwd, env: { REPRO_KEYS_DIR: alice } });
  const asBob = (args: string[], cwd = root) => repro(args, { cwd, env: { REPRO_KEYS_DIR: bob } });
  const signed = join(root, 'signed.repro.tar.gz');
  const unsigned = join(root, 'unsigned.repro.tar.gz');
  const alicePub = join(root, 'alice.pub.json');
  const bobPub = join(root, 'bob.pub.json');

  it('generates a key: private 0600, public file whose key id is the sha256 of the raw key; never overwrites', () => {
    const g = asAlice(['key', 'generate', 'alice']);
    expect(g.code).toBe(0);
    expect(statSync(join(alice, 'alice.key')).mode & 0o777).toBe(0o600);
    const pub = JSON.parse(readFileSync(join(alice, 'alice.pub.json'), 'utf8'));
    expect(pub).toMatchObject({ format: 'repro-public-key/1', name: 'alice', algorithm: 'ed25519' });
    expect(Buffer.from(pub.publicKey, 'base64')).toHaveLength(32);
    expect(pub.keyid).toBe(sha(Buffer.from(pub.publicKey, 'base64')));
    expect(g.out).toContain(pub.keyid);

    const again = asAlice(['key', 'generate', 'alice']);
    expect(again.code).toBe(2);
    expect(again.out).toMatch(/exists/);
    expect(readFileSync(join(alice, 'alice.pub.json'), 'utf8')).toContain(pub.keyid);

    expect(asAlice(['key', 'export', 'alice', '-o', alicePub]).code).toBe(0);
    expect(JSON.parse(readFileSync(alicePub, 'utf8')).keyid).toBe(pub.keyid);
    const list = asAlice(['key', 'list', '--json']);
    expect(JSON.parse(list.stdout).keys).toEqual([expect.objectContaining({ name: 'alice', keyid: pub.keyid, private: true })]);

    expect(asBob(['key', 'generate', 'bob']).code).toBe(0);
    expect(asBob(['key', 'export', 'bob', '-o', bobPub]).code).toBe(0);
    expect(asBob(['key', 'generate', '../evil']).code).toBe(2);
  });

  it('refuses to sign with a private key others may read', () => {
    expect(asAlice(['run', 'wf.yaml']).code).toBe(0);
    chmodSync(join(alice, 'alice.key'), 0o644);
    const r = asAlice(['export', '-o', signed, '--sign', 'alice']);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/chmod 600/);
    expect(existsSync(signed)).toBe(false);
    chmodSync(join(alice, 'alice.key'), 0o600);
  });

  it('export --sign stores a DSSE envelope over the lock; verify names the signer; python verifies it', () => {
    const ex = asAlice(['export', '-o', signed, '--sign', 'alice']);
    expect(ex.code).toBe(0);
    expect(ex.out).toMatch(/lock signed by 'alice'/);
    expect(asAlice(['export', '-o', unsigned]).code).toBe(0);

    const v = asAlice(['verify', signed]);
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/signed by 'alice', key id [0-9a-f]{16}… \(signature verified\)/);
    // Bob has not got Alice's key: the signature is reported, not vouched for.
    const vb = asBob(['verify', signed]);
    expect(vb.code).toBe(0);
    expect(vb.out).toMatch(/signature not checked: signed by key id [0-9a-f]{64}, which is not in the local key folder/);
    expect(asBob(['verify', signed, '--key', alicePub]).out).toMatch(/signed by 'alice'/);
    expect(asBob(['key', 'import', alicePub]).code).toBe(0);
    expect(asBob(['verify', signed]).out).toMatch(/signed by 'alice'.*signature verified/);

    const u = asBob(['verify', unsigned]);
    expect(u.code).toBe(0);
    expect(u.out).toMatch(/^unsigned$/m);
    // Asking for Alice's signature makes an unsigned archive fail, in the same words from verify and reproduce.
    const uk = asBob(['verify', unsigned, '--key', alicePub]);
    expect(uk.code).toBe(5);
    expect(uk.out).toMatch(/^signature FAILED: unsigned, and --key asks for a signature$/m);
    const ur = asBob(['reproduce', unsigned, '--dir', 'unsigned-again', '--trust', '--key', alicePub]);
    expect(ur.code).toBe(5);
    expect(ur.out).toContain(`repro: ${unsigned}: signature FAILED: unsigned, and --key asks for a signature`);
    expect(existsSync(join(root, 'unsigned-again'))).toBe(false);

    if (pythonReason) return console.log(`skipped the python check: ${pythonReason}`);
    const dir = tempDir('repro-attest-x-');
    tar(dir, '-xzf', signed, 'repro.lock.json', 'repro.lock.sig.json');
    const py = pythonVerify(join(dir, 'repro.lock.sig.json'), alicePub);
    expect(py.ok).toBe(true);
    expect(py.payloadType).toBe('application/vnd.repro.lock+json');
    expect(py.payload.equals(readFileSync(join(dir, 'repro.lock.json')))).toBe(true);
    // The same check with another key fails: python's verdict depends on the key.
    expect(pythonVerify(join(dir, 'repro.lock.sig.json'), bobPub).ok).toBe(false);
  });

  it('a signed archive whose artifact, run.json and lock were rewritten consistently fails (exit 5); reproduce runs nothing', () => {
    const dir = tempDir('repro-attest-t-');
    tar(dir, '-xzf', signed);
    // The forger's data, and every hash that names it updated to match.
    const forged = '{"n": 4}';
    writeFileSync(join(dir, 'artifacts/gen/data.json'), forged);
    const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
    const gen = run.steps.find((s: { id: string }) => s.id === 'gen');
    gen.outputs.data.sha256 = sha(forged);
    writeFileSync(join(dir, 'run.json'), JSON.stringify(run, null, 2));
    const lock = JSON.parse(readFileSync(join(dir, 'repro.lock.json'), 'utf8'));
    lock.steps.gen.outputs.data.sha256 = sha(forged);
    lock.files['artifacts/gen/data.json'] = sha(forged);
    lock.files['run.json'] = sha(readFileSync(join(dir, 'run.json')));
    writeFileSync(join(dir, 'repro.lock.json'), JSON.stringify(lock, null, 2) + '\n');
    const members = ['repro.lock.json', 'run.json', 'workflow', 'project', 'artifacts', 'logs', 'report'];

    // Without its signature the rewrite is consistent: every hash check passes. That is what signing is for.
    const stripped = join(dir, 'stripped.tar.gz');
    tar(dir, '-czf', stripped, ...members);
    const s = asBob(['verify', stripped]);
    expect(s.code).toBe(0);
    expect(s.out).toMatch(/^unsigned$/m);
    expect(asBob(['verify', stripped, '--key', alicePub]).code).toBe(5);

    // With the original signature: the lock is not the one Alice signed.
    const kept = join(dir, 'kept.tar.gz');
    tar(dir, '-czf', kept, 'repro.lock.sig.json', ...members);
    const k = asBob(['verify', kept]);
    expect(k.code).toBe(5);
    expect(k.out).toMatch(/signature FAILED: repro\.lock\.json is not the lock that was signed/);
    const r = asBob(['reproduce', kept, '--dir', 'forged', '--trust']);
    expect(r.code).toBe(5);
    expect(r.out).toMatch(/not the lock that was signed/);
    expect(existsSync(join(root, 'forged'))).toBe(false);

    // Re-signed by the forger: valid as a signature, but not Alice's.
    expect(repro(['key', 'generate', 'mallory'], { env: { REPRO_KEYS_DIR: join(dir, 'm') } }).code).toBe(0);
    writeFileSync(join(dir, 'repro.lock.sig.json'), signLock(readFileSync(join(dir, 'repro.lock.json')), loadSigningKey('mallory', join(dir, 'm'))));
    const resigned = join(dir, 'resigned.tar.gz');
    tar(dir, '-czf', resigned, 'repro.lock.sig.json', ...members);
    const m = asBob(['verify', resigned, '--key', alicePub]);
    expect(m.code).toBe(5);
    expect(m.out).toMatch(/not by the key given with --key/);
    expect(asBob(['verify', resigned]).out).toMatch(/signature not checked/);

    // A signature whose bytes were changed: Alice's key id, a signature that does not verify.
    const sig = JSON.parse(tar(root, '-xzOf', signed, 'repro.lock.sig.json'));
    sig.signatures[0].sig = Buffer.from(Buffer.from(sig.signatures[0].sig, 'base64').map((b: number, i: number) => (i === 0 ? b ^ 1 : b))).toString('base64');
    tar(dir, '-xzf', signed, 'repro.lock.json', 'run.json', 'artifacts');
    writeFileSync(join(dir, 'repro.lock.sig.json'), JSON.stringify(sig));
    const flipped = join(dir, 'flipped.tar.gz');
    tar(dir, '-czf', flipped, 'repro.lock.sig.json', ...members);
    const f = asBob(['verify', flipped]);
    expect(f.code).toBe(5);
    expect(f.out).toMatch(/signature by 'alice'.* does not verify/);
  });

  it('reproduce --sign writes an in-toto statement in DSSE that verify --attestation and python accept', () => {
    const r = asBob(['reproduce', signed, '--dir', 'again', '--trust', '--key', alicePub, '--sign', 'bob', '-q']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/archive signed by 'alice'/);
    const att = join(root, 'again', 'reproduction.intoto.json');
    expect(existsSync(att)).toBe(true);

    const v = repro(['verify', '--attestation', att, '--key', bobPub, signed], { cwd: root, env: { REPRO_KEYS_DIR: join(root, 'nobody') } });
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/^ok: .*signed by 'bob'/m);
    expect(v.out).toMatch(/verdict: bit-identical/);
    expect(v.out).toContain(`${sha(readFileSync(signed))}  signed.repro.tar.gz`);
    expect(v.out).toMatch(/ {4}[0-9a-f]{64} {2}score\/metrics/);
    // Without the signer's key there is nothing to check it with; about another archive it does not hold.
    expect(repro(['verify', '--attestation', att], { cwd: root, env: { REPRO_KEYS_DIR: join(root, 'nobody') } }).code).toBe(5);
    const other = asBob(['verify', '--attestation', att, '--key', bobPub, unsigned]);
    expect(other.code).toBe(5);
    expect(other.out).toMatch(/not among its subjects/);

    // A verdict changed after signing fails here and in python.
    const envelope = JSON.parse(readFileSync(att, 'utf8'));
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString());
    statement.predicate.verdict = 'differs';
    const forged = join(root, 'forged.intoto.json');
    writeFileSync(forged, JSON.stringify({ ...envelope, payload: Buffer.from(JSON.stringify(statement)).toString('base64') }));
    const fv = asBob(['verify', '--attestation', forged, '--key', bobPub]);
    expect(fv.code).toBe(5);
    expect(fv.out).toMatch(/does not verify/);

    if (pythonReason) return console.log(`skipped the python check: ${pythonReason}`);
    const py = pythonVerify(att, bobPub);
    expect(py.ok).toBe(true);
    expect(py.payloadType).toBe('application/vnd.in-toto+json');
    const s = JSON.parse(py.payload.toString());
    expect(s._type).toBe('https://in-toto.io/Statement/v1');
    expect(s.predicateType).toBe('https://repro.dev/predicates/reproduction/v1');
    expect(s.subject[0]).toEqual({ name: 'signed.repro.tar.gz', digest: { sha256: sha(readFileSync(signed)) } });
    expect(s.subject.map((x: { name: string }) => x.name)).toEqual(expect.arrayContaining(['gen/data', 'score/metrics']));
    expect(s.predicate).toMatchObject({ verdict: 'bit-identical', original: { workflow: 'attested', signature: { state: 'signed', name: 'alice' } }, reproduction: { status: 'succeeded' } });
    expect(s.predicate.original.runId).toMatch(/^\d{8}-/);
    expect(s.predicate.environment.cpuModel).toBeTruthy();
    expect(s.predicate.report.verdict).toBe('bit-identical');
    expect(pythonVerify(forged, bobPub).ok).toBe(false);
  });
});
