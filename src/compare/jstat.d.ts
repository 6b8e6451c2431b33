// The part of jstat (no bundled types) that src/compare uses.
declare module 'jstat' {
  interface Distribution2 {
    cdf(x: number, a: number): number;
    inv(p: number, a: number): number;
  }
  interface Distribution3 {
    cdf(x: number, a: number, b: number): number;
    inv(p: number, a: number, b: number): number;
  }
  const jStat: {
    studentt: Distribution2;
    normal: Distribution3;
    noncentralt: { cdf(x: number, dof: number, ncp: number): number };
    gammaln(x: number): number;
  };
  export default jStat;
}
