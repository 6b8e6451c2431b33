// Placeholder: the engine benchmarks are added by the issue that builds that area.
export async function bench(): Promise<void> {
  console.log('bench: engine (none yet)');
}
