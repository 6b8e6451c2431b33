// Local Ed25519 signing keys (`repro key`), kept offline: an exporter signs an archive's lock with
// one, an evaluator signs a reproduction's verdict with one, and whoever receives them checks the
// signature with the signer's public key file (docs/attestations.md).
//
// A key folder (--dir, else $REPRO_KEYS_DIR, else $XDG_CONFIG_HOME/repro/keys or ~/.config/repro/keys) holds
//   NAME.key        the private key, PKCS#8 PEM, mode 0600 (refused when others may read it)
//   NAME.pub.json   the public key file (PublicKeyFile): what `repro key export` hands to others;
//                   others' public key files imported with `repro key import` lie beside them
// A key's id is the SHA-256 of its raw 32-byte public key, in hex: the same key has the same id everywhere.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { ReproError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';

export const PUBLIC_KEY_FORMAT = 'repro-public-key/1';

/** NAME.pub.json: a public key as it travels between people. */
export interface PublicKeyFile {
  format: typeof PUBLIC_KEY_FORMAT;
  name: string;
  algorithm: 'ed25519';
  /** sha256 (hex) of the raw public key. */
  keyid: string;
  /** The raw 32-byte public key, base64. */
  publicKey: string;
  createdAt?: string;
}

/** A key that can sign: its private half, with the name and id that its signatures carry. */
export interface SigningKey {
  name: string;
  keyid: string;
  privateKey: KeyObject;
}

/** A key that can check signatures. `name` is the holder's name for it, where known. */
export interface VerifyingKey {
  name: string | null;
  keyid: string;
  publicKey: KeyObject;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function keysDir(dir?: string): string {
  if (dir) return resolve(dir);
  if (process.env.REPRO_KEYS_DIR) return resolve(process.env.REPRO_KEYS_DIR);
  return join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'repro', 'keys');
}

function checkName(name: string): void {
  if (!NAME.test(name) || name.endsWith('.pub')) {
    throw new ReproError(`key name '${name}': use letters, digits, '.', '_' or '-' (at most 64, starting with a letter or digit)`, 'invalid');
  }
}

/** The raw 32 bytes of an Ed25519 public key. */
export function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  return Buffer.from(jwk.x as string, 'base64url');
}

export const keyIdOf = (key: KeyObject): string => sha256(rawPublicKey(key));

function publicKeyOfRaw(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

export function publicKeyFile(name: string, key: KeyObject, createdAt?: string): PublicKeyFile {
  return { format: PUBLIC_KEY_FORMAT, name, algorithm: 'ed25519', keyid: keyIdOf(key), publicKey: rawPublicKey(key).toString('base64'), ...(createdAt ? { createdAt } : {}) };
}

/** Creates NAME.key (0600) and NAME.pub.json in the key folder; never replaces a key. */
export function generateKey(name: string, dir?: string): { name: string; keyid: string; privatePath: string; publicPath: string } {
  checkName(name);
  const root = keysDir(dir);
  const privatePath = join(root, `${name}.key`);
  const publicPath = join(root, `${name}.pub.json`);
  if (existsSync(privatePath) || existsSync(publicPath)) {
    throw new ReproError(`a key named '${name}' exists in ${root}`, 'invalid', 'choose another name; a key is never overwritten');
  }
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileAtomic(privatePath, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, { mode: 0o600 });
  chmodSync(privatePath, 0o600); // a umask may have taken the owner's own bits away
  const pub = publicKeyFile(name, publicKey, new Date().toISOString());
  writeFileAtomic(publicPath, JSON.stringify(pub, null, 2) + '\n');
  return { name, keyid: pub.keyid, privatePath, publicPath };
}

/** Parses a public key file (ours, or a PEM SPKI Ed25519 key); `file` names it in errors. */
export function parsePublicKey(text: string, file: string): VerifyingKey {
  if (text.trimStart().startsWith('-----BEGIN')) {
    let key: KeyObject;
    try {
      key = createPublicKey(text);
    } catch (err) {
      throw new ReproError(`${file}: not a public key (${(err as Error).message})`, 'invalid');
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new ReproError(`${file}: a ${key.asymmetricKeyType} key; repro signs with Ed25519`, 'invalid');
    return { name: null, keyid: keyIdOf(key), publicKey: key };
  }
  let doc: Partial<PublicKeyFile>;
  try {
    doc = JSON.parse(text) as Partial<PublicKeyFile>;
  } catch (err) {
    throw new ReproError(`${file}: not a public key file (${(err as Error).message})`, 'invalid');
  }
  const raw = typeof doc?.publicKey === 'string' ? Buffer.from(doc.publicKey, 'base64') : null;
  if (doc?.format !== PUBLIC_KEY_FORMAT || doc.algorithm !== 'ed25519' || !raw || raw.length !== 32) {
    throw new ReproError(`${file}: not a ${PUBLIC_KEY_FORMAT} Ed25519 public key file`, 'invalid', 'make one with `repro key export NAME`');
  }
  const key = publicKeyOfRaw(raw);
  const keyid = keyIdOf(key);
  // The id is derived, never taken on trust: a file whose id names another key is refused.
  if (doc.keyid !== undefined && doc.keyid !== keyid) throw new ReproError(`${file}: its keyid is not the SHA-256 of its public key`, 'invalid');
  return { name: typeof doc.name === 'string' && NAME.test(doc.name) ? doc.name : null, keyid, publicKey: key };
}

/** A key in the key folder: named by its file, with or without its private half. */
export interface LocalKey extends VerifyingKey {
  name: string;
  file: string;
  hasPrivate: boolean;
}

/** Every public key in the key folder, by key id (own keys and imported ones). */
export function knownKeys(dir?: string): Map<string, LocalKey> {
  const root = keysDir(dir);
  const out = new Map<string, LocalKey>();
  if (!existsSync(root)) return out;
  for (const f of readdirSync(root).sort()) {
    if (!f.endsWith('.pub.json')) continue;
    const file = join(root, f);
    try {
      const k = parsePublicKey(readFileSync(file, 'utf8'), file);
      const name = f.slice(0, -'.pub.json'.length);
      out.set(k.keyid, { ...k, name, file, hasPrivate: existsSync(join(root, `${name}.key`)) });
    } catch {
      // A stray or broken file in the folder is not a key; `repro key list` shows only keys.
    }
  }
  return out;
}

/** `--key PUB`: a public key file, or the name of a key in the key folder. */
export function loadPublicKey(spec: string, dir?: string): VerifyingKey {
  if (existsSync(spec) && statSync(spec).isFile()) {
    const k = parsePublicKey(readFileSync(spec, 'utf8'), spec);
    // The local name wins over the name the file carries: it is the one this user gave the key.
    const local = knownKeys(dir).get(k.keyid);
    return local ? { ...k, name: local.name } : k;
  }
  if (NAME.test(spec)) {
    const file = join(keysDir(dir), `${spec}.pub.json`);
    if (existsSync(file)) return { ...parsePublicKey(readFileSync(file, 'utf8'), file), name: spec };
  }
  throw new ReproError(`no public key ${spec}: neither a file nor a key in ${keysDir(dir)}`, 'invalid', 'pass a file written by `repro key export`, or `repro key list`');
}

/** `--sign KEY`: the name of a key in the key folder, or a private key file. Refuses a key others may read. */
export function loadSigningKey(spec: string, dir?: string): SigningKey {
  let file: string;
  let name: string;
  if (NAME.test(spec) && existsSync(join(keysDir(dir), `${spec}.key`))) {
    file = join(keysDir(dir), `${spec}.key`);
    name = spec;
  } else if (existsSync(spec) && statSync(spec).isFile()) {
    file = resolve(spec);
    name = basename(file).replace(/\.(key|pem)$/, '');
  } else {
    throw new ReproError(`no signing key ${spec}: neither a key in ${keysDir(dir)} nor a file`, 'invalid', `make one with: repro key generate ${NAME.test(spec) ? spec : 'NAME'}`);
  }
  if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) {
    throw new ReproError(`${file}: others may read this private key (mode ${(statSync(file).mode & 0o777).toString(8)})`, 'invalid', `chmod 600 ${file}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ReproError(`${file}: not a private key (${(err as Error).message})`, 'invalid');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new ReproError(`${file}: a ${key.asymmetricKeyType} key; repro signs with Ed25519`, 'invalid');
  return { name, keyid: keyIdOf(createPublicKey(key)), privateKey: key };
}

/** Copies another person's public key file into the key folder under NAME, so signatures by it are named. */
export function importPublicKey(file: string, name: string | undefined, dir?: string): VerifyingKey & { path: string } {
  if (!existsSync(file) || !statSync(file).isFile()) throw new ReproError(`no such public key file: ${file}`, 'invalid');
  const k = parsePublicKey(readFileSync(file, 'utf8'), file);
  const chosen = name ?? k.name;
  if (!chosen) throw new ReproError(`${file} carries no name`, 'invalid', 'pass --name NAME');
  checkName(chosen);
  const root = keysDir(dir);
  const path = join(root, `${chosen}.pub.json`);
  const same = knownKeys(dir).get(k.keyid);
  if (same) throw new ReproError(`this key is already known here as '${same.name}'`, 'invalid');
  if (existsSync(path)) throw new ReproError(`a key named '${chosen}' exists in ${root}`, 'invalid', 'pass --name OTHER');
  mkdirSync(root, { recursive: true, mode: 0o700 });
  writeFileAtomic(path, JSON.stringify(publicKeyFile(chosen, k.publicKey), null, 2) + '\n');
  return { ...k, name: chosen, path };
}
