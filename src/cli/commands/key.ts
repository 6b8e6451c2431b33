// `repro key`: local Ed25519 keys that sign exported archives and reproduction verdicts (docs/attestations.md).
import type { Command } from 'commander';
import { relative } from 'node:path';
import { writeFileAtomic } from '../../core/atomic.js';

const dirOption = '--dir <dir>';
const dirHelp = 'key folder (default: $REPRO_KEYS_DIR, else ~/.config/repro/keys)';

export function keyCommand(program: Command): void {
  const key = program.command('key').description('local Ed25519 keys: sign archives (`export --sign`) and verdicts (`reproduce --sign`); others check them with your public key');

  key
    .command('generate')
    .description('make a new key pair: NAME.key (private, mode 0600) and NAME.pub.json (public) in the key folder')
    .argument('[name]', 'the key\'s name', 'default')
    .option(dirOption, dirHelp)
    .action(async (name: string, opts: { dir?: string }) => {
      const { generateKey } = await import('../../share/keys.js');
      const k = generateKey(name, opts.dir);
      process.stdout.write(`generated key '${k.name}': key id ${k.keyid}\n  private: ${k.privatePath} (keep it; mode 0600)\n  public:  ${k.publicPath}\n`);
      process.stdout.write(`  give others the public key: repro key export ${k.name} -o ${k.name}.pub.json\n`);
    });

  key
    .command('list')
    .description('the keys in the key folder: your own (with a private key) and the public keys you imported')
    .option(dirOption, dirHelp)
    .option('--json', 'print them as JSON')
    .action(async (opts: { dir?: string; json?: boolean }) => {
      const { keysDir, knownKeys } = await import('../../share/keys.js');
      const keys = [...knownKeys(opts.dir).values()].map((k) => ({ name: k.name, keyid: k.keyid, private: k.hasPrivate, file: k.file }));
      if (opts.json) {
        process.stdout.write(JSON.stringify({ dir: keysDir(opts.dir), keys }, null, 2) + '\n');
        return;
      }
      if (!keys.length) process.stdout.write(`no keys in ${keysDir(opts.dir)} (make one: repro key generate NAME)\n`);
      for (const k of keys) process.stdout.write(`${k.name.padEnd(20)} ${k.keyid}  ${k.private ? 'own (private key here)' : 'imported public key'}\n`);
    });

  key
    .command('export')
    .description('print a key\'s public key file (or write it with -o), to hand to whoever checks your signatures')
    .argument('[name]', 'the key\'s name', 'default')
    .option('-o, --out <file>', 'write it to this file')
    .option(dirOption, dirHelp)
    .action(async (name: string, opts: { out?: string; dir?: string }) => {
      const { loadPublicKey, publicKeyFile } = await import('../../share/keys.js');
      const k = loadPublicKey(name, opts.dir);
      const text = JSON.stringify(publicKeyFile(k.name ?? name, k.publicKey), null, 2) + '\n';
      if (!opts.out) return void process.stdout.write(text);
      writeFileAtomic(opts.out, text);
      process.stdout.write(`wrote the public key of '${k.name ?? name}' (key id ${k.keyid}) to ${relative(process.cwd(), opts.out)}\n`);
    });

  key
    .command('import')
    .description('keep someone\'s public key file in the key folder, so `verify` and `reproduce` name them as the signer')
    .argument('<file>', 'a public key file written by `repro key export`')
    .option('--name <name>', 'your name for the key (default: the name in the file)')
    .option(dirOption, dirHelp)
    .action(async (file: string, opts: { name?: string; dir?: string }) => {
      const { importPublicKey } = await import('../../share/keys.js');
      const k = importPublicKey(file, opts.name, opts.dir);
      process.stdout.write(`imported '${k.name}': key id ${k.keyid} (${k.path})\n`);
    });
}
