/** A trigger that cannot be rendered: a spec problem or a refused override, naming the field. */
export class RenderError extends Error {
  override readonly name = 'RenderError';
  /** The first offending field, e.g. `spec.deployment.spec.template.spec.hostNetwork`. */
  readonly path: string;
  /** Every offending field with its message (policy refusals can be several). */
  readonly problems: readonly { readonly path: string; readonly message: string }[];

  constructor(problems: readonly { readonly path: string; readonly message: string }[], options?: ErrorOptions) {
    super(problems.map((problem) => `${problem.path}: ${problem.message}`).join('; '), options);
    this.path = problems[0]?.path ?? '';
    this.problems = problems;
  }

  static at(path: string, message: string, options?: ErrorOptions): RenderError {
    return new RenderError([{ path, message }], options);
  }
}
