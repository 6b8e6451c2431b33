// Placeholder: the data benchmarks are added by the issue that builds that area.
export async function bench(): Promise<void> {
  console.log('bench: data (none yet)');
}
