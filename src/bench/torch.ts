// Placeholder: the torch-vs-tfjs benchmarks are added by the torch-engine issue.
export async function bench(): Promise<void> {
  console.log('bench: torch (none yet)');
}
