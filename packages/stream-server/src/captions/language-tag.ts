// BCP-47 language tags of caption tracks: validated and canonicalised with the platform's Intl.

/** What a canonical tag may contain; it becomes part of storage keys and URLs. */
const SAFE_TAG = /^[A-Za-z0-9-]{1,64}$/;

/**
 * The canonical form of a BCP-47 language tag (`Intl.getCanonicalLocales`), or `undefined` when `tag` is not one.
 *
 * @example
 * canonicalLanguage('pt-br');   // 'pt-BR'
 * canonicalLanguage('zh-hant'); // 'zh-Hant'
 * canonicalLanguage('iw');      // 'he' (deprecated tags become their replacement)
 * canonicalLanguage('en_US');   // undefined
 */
export function canonicalLanguage(tag: string): string | undefined {
  if (!SAFE_TAG.test(tag)) return undefined;
  let canonical: string | undefined;
  try {
    canonical = Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
  return canonical !== undefined && SAFE_TAG.test(canonical) ? canonical : undefined;
}

const displayNames = new Intl.DisplayNames(['en'], {
  type: 'language',
  languageDisplay: 'standard',
  fallback: 'code',
});

/**
 * A readable English name of a canonical language tag, for a captions menu when no label is given.
 *
 * @example
 * languageLabel('en');    // 'English'
 * languageLabel('pt-BR'); // 'Portuguese (Brazil)'
 */
export function languageLabel(tag: string): string {
  if (tag === 'und' || tag.startsWith('und-')) return 'Unknown language';
  try {
    return displayNames.of(tag) ?? tag;
  } catch {
    return tag;
  }
}
