/**
 * zoo.cfg files as the kit writes them: user settings merged over the kit's defaults, with the
 * keys the kit manages protected.
 */

/**
 * Reject user settings the kit cannot honour: keys it manages itself (changing them would make
 * the kit's own view of ports and directories lie) and line breaks (which would inject lines).
 */
export function checkUserConfig(
  config: Record<string, string>,
  reservedKeys: readonly (string | RegExp)[],
  owner: string,
): void {
  for (const key of Object.keys(config)) {
    if (
      reservedKeys.some((reserved) => (typeof reserved === 'string' ? reserved === key : reserved.test(key)))
    ) {
      throw new TypeError(`config.${key} is managed by ${owner}`);
    }
  }
  for (const [key, value] of Object.entries(config)) {
    if (/[\r\n]/.test(key + value)) throw new TypeError(`config.${key}: line breaks are not allowed`);
  }
}

/**
 * The text of a zoo.cfg. It is read with `java.util.Properties`, so every setting is one
 * `key=value` line (no trailing comments: they would become part of the value).
 */
export function renderConfig(entries: Record<string, string>): string {
  return Object.entries(entries)
    .map(([key, value]) => `${key}=${value}\n`)
    .join('');
}
