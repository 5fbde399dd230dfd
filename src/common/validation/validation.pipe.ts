import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { BadRequestError, FieldError, ValidationFailedError } from '../errors/domain-error.js';

/**
 * A body DTO is a JSON object. Nest validates a primitive body as if it were `{}` and then hands the
 * primitive to the handler, so a DTO whose fields are all optional would accept `"x"`, `1`, `[]` or `null`:
 * those are refused before validation. (No body at all is still validated as `{}`.)
 */
class JsonObjectValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
    if (metadata.type === 'body' && value !== undefined && !isObject && this.toValidate(metadata)) {
      throw new BadRequestError('Request body must be a JSON object');
    }
    return super.transform(value, metadata);
  }
}

/**
 * The global pipe: DTOs are validated, unknown fields rejected, and failures reported per field in
 * the shape of DESIGN.md §6. Values are never echoed back (they may be secrets).
 */
export function createValidationPipe(): ValidationPipe {
  return new JsonObjectValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new ValidationFailedError(flatten(errors)),
  });
}

/**
 * Checks of what a value is rather than of its size or form: when one of these fails, the field's other
 * failures say nothing useful (`limit=abc` is not "greater than 500", `value: 123` is not "more than
 * 65536 bytes"), so only these are reported.
 */
const TYPE_CONSTRAINTS = new Set(['isString', 'isInt', 'isNumber', 'isBoolean', 'isArray', 'isObject', 'isIn', 'isEnum', 'isEmail', 'isUuid']);

function constraintsToReport(constraints: Record<string, string>): Record<string, string> {
  const typeFailures = Object.entries(constraints).filter(([name]) => TYPE_CONSTRAINTS.has(name));
  return typeFailures.length ? Object.fromEntries(typeFailures) : constraints;
}

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(constraintsToReport(error.constraints ?? {})).map((message) => ({
      field,
      message: error.constraints?.whitelistValidation === message ? `${field} is not an allowed field` : message,
    }));
    // A field that fails its own checks (say, an object where an array belongs) is reported alone: its
    // children would be named after whatever keys the caller sent.
    return own.length ? own : flatten(error.children ?? [], field);
  });
}
