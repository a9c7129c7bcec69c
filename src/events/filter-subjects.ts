// Consumer filters in the form JetStream serves fast. nats-server 2.10 takes a consumer with its one
// filter given as a list (`filter_subjects: [s]`) down a multi-filter path that delivered 30,000
// messages in 36 s where the same filter as a string (`filter_subject`) took 0.4 s (measured here).

/** The consumer-config fields for `subjects`: a string for one subject, a list only for several. */
export function filterFields(
  subjects: readonly string[],
): { filter_subject: string } | { filter_subjects: string[] } {
  return subjects.length === 1 ? { filter_subject: subjects[0]! } : { filter_subjects: [...subjects] };
}

/** For ordered consumers, whose option takes a string or a list. */
export function orderedFilter(subjects: readonly string[]): string | string[] {
  return subjects.length === 1 ? subjects[0]! : [...subjects];
}
