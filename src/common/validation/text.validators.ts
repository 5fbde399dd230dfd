import { ValidateBy, type ValidationOptions } from 'class-validator';

/**
 * Control characters in text (issue #11). NUL and unpaired surrogates are refused in every string by
 * input-checks.ts; these decide what else a field may hold:
 *
 * - `@IsSingleLineText()`: names, token names, URLs, references, search prefixes: no control character at
 *   all (C0 U+0000–U+001F, DEL U+007F, C1 U+0080–U+009F), line breaks and tabs included. They are shown
 *   in lists, terminals and logs, where a line break or an escape sequence would forge or hide output.
 * - `@IsMultiLineText()`: descriptions: tab, LF and CR are allowed (text may span lines); no other
 *   control character.
 * - Secret values and passwords get neither: a value is opaque to secr (a PEM key, a JSON blob, whatever
 *   the program that reads it expects) and a password is only hashed; refusing characters there would
 *   break real values or lock users out of existing accounts.
 */
const ANY_CONTROL = /\p{Cc}/u;
const CONTROL_BUT_LINE_BREAKS = /[^\P{Cc}\t\n\r]/u;

export function IsSingleLineText(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isSingleLineText',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || !ANY_CONTROL.test(value),
        defaultMessage: (args) => `${args?.property} must not contain control characters or line breaks`,
      },
    },
    options,
  );
}

export function IsMultiLineText(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isMultiLineText',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || !CONTROL_BUT_LINE_BREAKS.test(value),
        defaultMessage: (args) => `${args?.property} must not contain control characters other than tab and line breaks`,
      },
    },
    options,
  );
}
