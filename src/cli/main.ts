// The `repro` command line. Each command lives in commands/<name>.ts and registers itself here.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { ExitCode, exitCodeOf } from './exit-codes.js';
import { validateCommand } from './commands/validate.js';
import { planCommand } from './commands/plan.js';
import { runCommand } from './commands/run.js';
import { whyCommand } from './commands/why.js';
import { verifyCommand } from './commands/verify.js';
import { gcCommand } from './commands/gc.js';
import { fetchCommand } from './commands/fetch.js';
import { compareCommand } from './commands/compare.js';
import { diffCommand } from './commands/diff.js';
import { checkCommand } from './commands/check.js';
import { reportCommand } from './commands/report.js';
import { exportCommand } from './commands/export.js';
import { reproduceCommand } from './commands/reproduce.js';
import { pinCommand } from './commands/pin.js';
import { initCommand } from './commands/init.js';
import { runsCommand } from './commands/runs.js';
import { logsCommand } from './commands/logs.js';
import { execStepCommand } from './commands/exec-step.js';
import { uiCommand } from './commands/ui.js';
import { keyCommand } from './commands/key.js';
import { publishCommand } from './commands/publish.js';
import { resultsCommand } from './commands/results.js';
import { ReproError } from '../core/errors.js';
import { watchOutputPipes } from './output.js';

export const version: string = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;

export function buildProgram(): Command {
  const program = new Command('repro')
    .description('Reproduce published ML results from a declarative YAML workflow.')
    .version(version, '-V, --version')
    .showHelpAfterError()
    .exitOverride();
  for (const register of [
    initCommand,
    validateCommand,
    planCommand,
    runCommand,
    checkCommand,
    whyCommand,
    compareCommand,
    diffCommand,
    reportCommand,
    runsCommand,
    logsCommand,
    verifyCommand,
    gcCommand,
    fetchCommand,
    exportCommand,
    reproduceCommand,
    pinCommand,
    uiCommand,
    keyCommand,
    publishCommand,
    resultsCommand,
    execStepCommand,
  ]) {
    register(program);
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with code 0.
      return err.exitCode === 0 ? ExitCode.OK : ExitCode.INVALID;
    }
    if (err instanceof ReproError) {
      process.stderr.write(`repro: ${err.message}\n`);
      if (err.hint) process.stderr.write(`  hint: ${err.hint}\n`);
      return exitCodeOf(err.category);
    }
    process.stderr.write(`repro: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return ExitCode.INTERNAL;
  }
}

watchOutputPipes();
const code = await main(process.argv.slice(2));
process.exitCode = code;
