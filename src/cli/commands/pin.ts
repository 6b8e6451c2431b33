// `repro pin URL#path@REF`: resolve a branch or tag of a remote workflow to the commit it names now and
// record that in repro.pins.json, the one way a pin moves (docs/engine.md, "Pins").
import type { Command } from 'commander';
import { ReproError } from '../../core/errors.js';

export function pinCommand(program: Command): void {
  program
    .command('pin')
    .description('pin a branch or tag of a remote workflow (URL#path@REF) to the commit it names now, in repro.pins.json; moves an existing pin')
    .argument('<workflow>', 'URL#path@REF of a workflow in a git repository')
    .action(async (arg: string) => {
      const { parseRemoteWorkflow, checkoutRemoteWorkflow } = await import('../../share/remote.js');
      const ref = parseRemoteWorkflow(arg);
      if (!ref) throw new ReproError(`${arg}: not a remote workflow (URL#path@REF)`, 'invalid', 'a local workflow file needs no pin: it is yours');
      const { source } = await checkoutRemoteWorkflow(ref, { updatePin: true, say: (line) => process.stdout.write(`${line}\n`) });
      if (source.commit.startsWith(ref.rev)) process.stdout.write(`(${ref.rev} names a commit: nothing to pin)\n`);
    });
}
