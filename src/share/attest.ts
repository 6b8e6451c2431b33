// Signatures a second party can check offline (docs/attestations.md):
//   - an exported archive's lock, signed by its exporter: a DSSE envelope over the bytes of
//     repro.lock.json, stored in the archive as repro.lock.sig.json. The lock holds the SHA-256 of
//     every other file, so an archive rewritten consistently (artifact, run.json and lock) no longer
//     matches the signed lock;
//   - a reproduction's verdict, signed by whoever re-ran it: an in-toto Statement v1 in a DSSE
//     envelope whose subjects are the archive and the re-run's outputs.
// DSSE (https://github.com/secure-systems-lab/dsse, protocol v1): the signature covers
// PAE(payloadType, payload) = "DSSEv1" SP LEN(type) SP type SP LEN(payload) SP payload, LEN the byte
// length in ASCII decimal; the envelope carries the payload in base64.
import { sign as edSign, verify as edVerify } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { ReproError } from '../core/errors.js';
import { sha256, sha256File } from '../core/hash.js';
import type { RunRecord } from '../formats/run-record.js';
import { LOCK_SIGNATURE, type ExportLock } from './archive.js';
import { knownKeys, type SigningKey, type VerifyingKey } from './keys.js';

export const LOCK_PAYLOAD_TYPE = 'application/vnd.repro.lock+json';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/** The predicate of a reproduction attestation (docs/attestations.md defines its fields). */
export const REPRODUCTION_PREDICATE_TYPE = 'https://repro.dev/predicates/reproduction/v1';

/** An envelope is refused above this size before it is parsed: a verdict is a few kilobytes. */
const MAX_ENVELOPE_BYTES = 16 * 2 ** 20;

export interface DsseEnvelope {
  payloadType: string;
  /** base64 of the payload's bytes */
  payload: string;
  signatures: Array<{ keyid: string; sig: string }>;
}

/** DSSE's pre-authentication encoding: what is signed, binding the payload to its type. */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

export function signEnvelope(payloadType: string, payload: Uint8Array, key: SigningKey): DsseEnvelope {
  const sig = edSign(null, pae(payloadType, payload), key.privateKey);
  return { payloadType, payload: Buffer.from(payload).toString('base64'), signatures: [{ keyid: key.keyid, sig: sig.toString('base64') }] };
}

/** Parses an envelope's text; throws (message only) when it is not one. */
export function parseEnvelope(text: string): DsseEnvelope {
  let e: Partial<DsseEnvelope>;
  try {
    e = JSON.parse(text) as Partial<DsseEnvelope>;
  } catch (err) {
    throw new Error(`not JSON (${(err as Error).message.slice(0, 120)})`);
  }
  const ok =
    e !== null &&
    typeof e === 'object' &&
    typeof e.payloadType === 'string' &&
    typeof e.payload === 'string' &&
    Array.isArray(e.signatures) &&
    e.signatures.every((s) => s !== null && typeof s === 'object' && typeof s.sig === 'string' && (s.keyid === undefined || typeof s.keyid === 'string'));
  if (!ok) throw new Error('not a DSSE envelope (payloadType, payload, signatures[{keyid, sig}])');
  return e as DsseEnvelope;
}

export type SignatureCheck =
  /** A signature by a key we hold verifies. */
  | { state: 'valid'; keyid: string; name: string | null }
  /** No signature verifies with the keys we hold; `keyids`: the ids the signatures name. */
  | { state: 'unknown-key'; keyids: string[] }
  /** A signature names a key we hold but does not verify: the payload or the signature was changed. */
  | { state: 'invalid'; keyid: string; name: string | null };

/**
 * Checks the envelope's signatures against `keys` (by key id; a signature without one is tried with
 * every key). Valid when one verifies.
 */
export function checkEnvelope(envelope: DsseEnvelope, keys: VerifyingKey[]): SignatureCheck {
  const message = pae(envelope.payloadType, Buffer.from(envelope.payload, 'base64'));
  let bad: VerifyingKey | null = null;
  for (const s of envelope.signatures) {
    for (const k of keys) {
      if (s.keyid !== undefined && s.keyid !== k.keyid) continue;
      if (edVerify(null, message, k.publicKey, Buffer.from(s.sig, 'base64'))) return { state: 'valid', keyid: k.keyid, name: k.name };
      if (s.keyid !== undefined) bad = k;
    }
  }
  if (bad) return { state: 'invalid', keyid: bad.keyid, name: bad.name };
  return { state: 'unknown-key', keyids: envelope.signatures.map((s) => s.keyid ?? '(none)') };
}

/** The keys a check may use: the one given with --key, else every public key in the local key folder. */
export function verifyingKeys(given: VerifyingKey | null): VerifyingKey[] {
  return given ? [given] : [...knownKeys().values()];
}

export const describeSigner = (s: { keyid: string; name: string | null }): string => `${s.name ? `'${s.name}', ` : ''}key id ${s.keyid.slice(0, 16)}…`;

// ─── archives ──────────────────────────────────────────────────────────────────────────────────

/** The envelope to store as repro.lock.sig.json beside the lock (exportRun's `signLock`). */
export function signLock(lockBytes: Uint8Array, key: SigningKey): string {
  return JSON.stringify(signEnvelope(LOCK_PAYLOAD_TYPE, lockBytes, key), null, 2) + '\n';
}

export interface ArchiveSignature {
  /** `unsigned`: no signature member. `tampered`: the signed lock is not the archive's lock, or the signature does not verify. */
  state: 'signed' | 'unsigned' | 'unknown-key' | 'tampered';
  keyid?: string;
  name?: string | null;
  /** Why, for `tampered` and `unknown-key`. */
  detail?: string;
}

/** Checks a lock signature: `lock` the bytes of repro.lock.json, `envelopeText` those of repro.lock.sig.json (null: none). */
export function checkLockSignature(lock: Uint8Array, envelopeText: string | null, given: VerifyingKey | null): ArchiveSignature {
  if (envelopeText === null) return { state: 'unsigned' };
  let envelope: DsseEnvelope;
  try {
    envelope = parseEnvelope(envelopeText);
  } catch (err) {
    return { state: 'tampered', detail: `${LOCK_SIGNATURE}: ${(err as Error).message}` };
  }
  if (envelope.payloadType !== LOCK_PAYLOAD_TYPE) return { state: 'tampered', detail: `${LOCK_SIGNATURE} signs a ${envelope.payloadType}, not a lock` };
  // Needs no key: a lock rewritten after signing is caught even when the signer is unknown here.
  if (!Buffer.from(envelope.payload, 'base64').equals(lock)) {
    return { state: 'tampered', detail: 'repro.lock.json is not the lock that was signed: the archive was changed after signing' };
  }
  const check = checkEnvelope(envelope, verifyingKeys(given));
  if (check.state === 'valid') return { state: 'signed', keyid: check.keyid, name: check.name };
  if (check.state === 'invalid') return { state: 'tampered', keyid: check.keyid, name: check.name, detail: `the signature by ${describeSigner(check)} does not verify` };
  return {
    state: 'unknown-key',
    keyid: check.keyids[0],
    detail: given
      ? `signed by key id ${check.keyids.join(', ')}, not by the key given with --key (${given.keyid.slice(0, 16)}…)`
      : `signed by key id ${check.keyids.join(', ')}, which is not in the local key folder (pass the signer's public key: --key PUB)`,
  };
}

/** The signature of an extracted archive (`dir`, as `repro reproduce` unpacks it). */
export function checkArchiveSignature(dir: string, given: VerifyingKey | null): ArchiveSignature {
  const sigPath = join(dir, LOCK_SIGNATURE);
  if (existsSync(sigPath) && statSync(sigPath).size > MAX_ENVELOPE_BYTES) return { state: 'tampered', detail: `${LOCK_SIGNATURE} is larger than any signature` };
  return checkLockSignature(readFileSync(join(dir, 'repro.lock.json')), existsSync(sigPath) ? readFileSync(sigPath, 'utf8') : null, given);
}

/** One line on the archive's signature, for verify and reproduce; `keyGiven`: --key asks for a signature, so none fails (signatureFails). */
export function describeArchiveSignature(s: ArchiveSignature, keyGiven = false): string {
  if (s.state === 'signed') return `signed by ${describeSigner({ keyid: s.keyid!, name: s.name ?? null })} (signature verified)`;
  if (s.state === 'unsigned') return keyGiven ? 'signature FAILED: unsigned, and --key asks for a signature' : 'unsigned';
  if (s.state === 'unknown-key') return `signature not checked: ${s.detail}`;
  return `signature FAILED: ${s.detail}`;
}

/**
 * Whether the signature state fails a check: a tampered archive always; with `--key` (the user
 * names whose signature they require) also an unsigned archive or one signed by another key.
 */
export function signatureFails(s: ArchiveSignature, keyGiven: boolean): boolean {
  return s.state === 'tampered' || (keyGiven && s.state !== 'signed');
}

// ─── reproduction attestations ─────────────────────────────────────────────────────────────────

export interface Statement {
  _type: typeof STATEMENT_TYPE;
  subject: Array<{ name: string; digest: { sha256: string } }>;
  predicateType: string;
  predicate: Record<string, unknown>;
}

export interface ReproductionInput {
  /** The archive that was reproduced (its bytes are hashed). */
  archive: string;
  /** The folder the archive was unpacked into: its lock's bytes are hashed into the predicate. */
  extracted: string;
  lock: ExportLock;
  signature: ArchiveSignature;
  reproduced: RunRecord;
  /** What `repro reproduce` concluded, as it reports it (--json): kept as it is, whatever its shape. */
  report: unknown;
}

/** The environment of the re-run as the run record has it, less the interpreter's path (a path names a machine's layout, not a result). */
function environmentOf(record: RunRecord): Record<string, unknown> {
  const env = { ...record.environment } as Record<string, unknown>;
  if (record.environment.python) {
    const { path: _path, ...python } = record.environment.python;
    env.python = python;
  }
  return env;
}

/** The in-toto Statement of a reproduction: subjects the archive and every output of the re-run, by sha256. */
export async function reproductionStatement(input: ReproductionInput): Promise<Statement> {
  const { lock, reproduced } = input;
  const subject: Statement['subject'] = [{ name: basename(input.archive), digest: { sha256: await sha256File(input.archive) } }];
  for (const step of reproduced.steps) {
    for (const [output, art] of Object.entries(step.outputs ?? {})) subject.push({ name: `${step.id}/${output}`, digest: { sha256: art.sha256 } });
  }
  const report = input.report as { verdict?: unknown } | null;
  return {
    _type: STATEMENT_TYPE,
    subject,
    predicateType: REPRODUCTION_PREDICATE_TYPE,
    predicate: {
      verdict: report && typeof report === 'object' && 'verdict' in report ? report.verdict : null,
      original: {
        runId: lock.run.id,
        workflow: lock.run.workflow,
        workflowSha256: lock.workflow.sha256,
        status: lock.run.status,
        git: lock.run.git,
        lockSha256: sha256(readFileSync(join(input.extracted, 'repro.lock.json'))),
        signature: input.signature,
      },
      reproduction: { runId: reproduced.runId, status: reproduced.status, startedAt: reproduced.startedAt, finishedAt: reproduced.finishedAt ?? null, profile: reproduced.profile },
      environment: environmentOf(reproduced),
      report: input.report ?? null,
    },
  };
}

/** Signs the reproduction's Statement with `key` and writes the envelope to `out` (atomically). */
export async function attestReproduction(input: ReproductionInput, key: SigningKey, out: string): Promise<{ file: string; statement: Statement }> {
  const statement = await reproductionStatement(input);
  const envelope = signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement)), key);
  writeFileAtomic(out, JSON.stringify(envelope, null, 2) + '\n');
  return { file: out, statement };
}

export interface AttestationCheck {
  signer: SignatureCheck;
  statement: Statement;
  /** When an archive was named: whether its sha256 is one of the subjects. */
  archiveMatches?: boolean;
}

/** `repro verify --attestation FILE`: the envelope's signature, and its Statement's shape. */
export async function verifyAttestation(file: string, given: VerifyingKey | null, archive?: string): Promise<AttestationCheck> {
  if (!existsSync(file)) throw new ReproError(`no such attestation: ${file}`, 'invalid');
  if (statSync(file).size > MAX_ENVELOPE_BYTES) throw new ReproError(`${file}: larger than any attestation (${MAX_ENVELOPE_BYTES} bytes)`, 'corrupt');
  let envelope: DsseEnvelope;
  try {
    envelope = parseEnvelope(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ReproError(`${file}: ${(err as Error).message}`, 'corrupt');
  }
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) throw new ReproError(`${file}: payloadType ${envelope.payloadType}, not ${IN_TOTO_PAYLOAD_TYPE}`, 'corrupt');
  const keys = verifyingKeys(given);
  const signer = checkEnvelope(envelope, keys);
  if (signer.state === 'unknown-key') {
    throw new ReproError(`${file}: signed by key id ${signer.keyids.join(', ')}, ${given ? 'not by the key given with --key' : 'which is not in the local key folder'}`, 'corrupt', given ? undefined : 'pass the signer\'s public key: --key PUB');
  }
  if (signer.state === 'invalid') throw new ReproError(`${file}: the signature by ${describeSigner(signer)} does not verify: the attestation was changed`, 'corrupt');
  let statement: Statement;
  try {
    statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as Statement;
  } catch (err) {
    throw new ReproError(`${file}: the signed payload is not JSON (${(err as Error).message})`, 'corrupt');
  }
  if (statement?._type !== STATEMENT_TYPE || !Array.isArray(statement.subject) || typeof statement.predicateType !== 'string') {
    throw new ReproError(`${file}: the signed payload is not an in-toto Statement v1`, 'corrupt');
  }
  const result: AttestationCheck = { signer, statement };
  if (archive !== undefined) {
    const digest = await sha256File(archive);
    result.archiveMatches = statement.subject.some((s) => s?.digest?.sha256 === digest);
  }
  return result;
}
