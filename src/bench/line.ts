// The one format of a speed figure (`npm run bench`, src/bench/main.ts): `bench: NAME VALUE UNIT`,
// kept here so that every area prints it alike.

export function line(name: string, value: number, unit: string, digits = 0): void {
  console.log(`bench: ${name} ${value.toFixed(digits)} ${unit}`);
}
