// What every benchmark is: a name, a one-line description and a run at a chosen scale that returns a
// JSON-ready result. Progress goes to stderr through `Progress`; stdout belongs to the final report.

export type Scale = 'small' | 'full';

export const scales: readonly Scale[] = ['small', 'full'];

export type Progress = (message: string) => void;

export interface Benchmark {
  readonly name: string;
  readonly description: string;
  /** Run only when named with --only (a soak of many minutes), not as part of every benchmark. */
  readonly onlyWhenNamed?: boolean;
  run(scale: Scale, progress: Progress): Promise<object>;
}
