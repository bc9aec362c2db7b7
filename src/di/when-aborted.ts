/** Resolves when any of `signals` aborts (at once if one already has). */
export function whenAborted(...signals: AbortSignal[]): Promise<void> {
  const any = signals.length === 1 ? signals[0]! : AbortSignal.any(signals);
  return new Promise((resolve) =>
    any.aborted ? resolve() : any.addEventListener('abort', () => resolve(), { once: true }),
  );
}
