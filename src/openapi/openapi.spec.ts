import { describe, expect, it } from '@jest/globals';
import { toOpenApi31 } from './openapi.js';

describe('toOpenApi31', () => {
  it('turns a nullable string into a type array with null and drops the 3.0 keyword', () => {
    expect(toOpenApi31({ type: 'string', format: 'uuid', nullable: true, description: 'd' })).toEqual({
      type: ['string', 'null'],
      format: 'uuid',
      description: 'd',
    });
  });

  it('adds null to the type array and to the enum of a nullable enum', () => {
    expect(toOpenApi31({ type: 'string', enum: ['read', 'read_write'], nullable: true })).toEqual({
      type: ['string', 'null'],
      enum: ['read', 'read_write', null],
    });
  });

  it('extends a type that is already an array, once', () => {
    expect(toOpenApi31({ type: ['string', 'integer'], nullable: true })).toEqual({ type: ['string', 'integer', 'null'] });
    expect(toOpenApi31({ type: ['string', 'null'], nullable: true })).toEqual({ type: ['string', 'null'] });
  });

  it('turns a nullable $ref into a oneOf with null, keeping its siblings', () => {
    expect(toOpenApi31({ $ref: '#/components/schemas/UserDto', nullable: true, description: 'the owner' })).toEqual({
      description: 'the owner',
      oneOf: [{ $ref: '#/components/schemas/UserDto' }, { type: 'null' }],
    });
  });

  it('turns the allOf-wrapped $ref @nestjs/swagger emits for a nullable nested class into a oneOf with null', () => {
    // @ApiProperty({ type: UserDto, nullable: true, description }) is emitted as below; as a type array,
    // ['object', 'null'] next to allOf would still refuse null, since allOf requires the referenced object.
    const emitted = { nullable: true, description: 'the owner', type: 'object', allOf: [{ $ref: '#/components/schemas/UserDto' }] };
    expect(toOpenApi31(emitted)).toEqual({
      description: 'the owner',
      oneOf: [{ $ref: '#/components/schemas/UserDto' }, { type: 'null' }],
    });
  });

  it('makes a nullable schema without a type one more alternative of an anyOf with null', () => {
    const schema = { oneOf: [{ type: 'string' }, { type: 'integer' }], nullable: true };
    expect(toOpenApi31(schema)).toEqual({ anyOf: [{ oneOf: [{ type: 'string' }, { type: 'integer' }] }, { type: 'null' }] });
  });

  it('converts nullable schemas at any depth: properties, array items, combinators and whole documents', () => {
    const document = {
      openapi: '3.1.0',
      paths: {
        '/v1/things': {
          get: {
            responses: {
              200: {
                description: 'ok',
                content: {
                  'application/json': {
                    schema: { type: 'array', items: { type: 'object', properties: { at: { type: 'string', nullable: true } } } },
                  },
                },
              },
            },
          },
        },
      },
      components: {
        schemas: {
          Thing: {
            type: 'object',
            required: ['tags'],
            properties: {
              tags: { type: 'array', items: { type: 'string', nullable: true } },
              matrix: { type: 'array', items: { type: 'array', items: { type: 'integer', nullable: true } } },
              parent: { $ref: '#/components/schemas/Thing', nullable: true },
              either: { anyOf: [{ type: 'object', properties: { n: { type: 'number', nullable: true } } }] },
              count: { type: 'integer', nullable: false },
            },
          },
        },
      },
    };
    expect(toOpenApi31(document)).toEqual({
      openapi: '3.1.0',
      paths: {
        '/v1/things': {
          get: {
            responses: {
              200: {
                description: 'ok',
                content: {
                  'application/json': {
                    schema: { type: 'array', items: { type: 'object', properties: { at: { type: ['string', 'null'] } } } },
                  },
                },
              },
            },
          },
        },
      },
      components: {
        schemas: {
          Thing: {
            type: 'object',
            required: ['tags'],
            properties: {
              tags: { type: 'array', items: { type: ['string', 'null'] } },
              matrix: { type: 'array', items: { type: 'array', items: { type: ['integer', 'null'] } } },
              parent: { oneOf: [{ $ref: '#/components/schemas/Thing' }, { type: 'null' }] },
              either: { anyOf: [{ type: 'object', properties: { n: { type: ['number', 'null'] } } }] },
              count: { type: 'integer' },
            },
          },
        },
      },
    });
  });

  it('leaves a schema without nullable as it was, and never mutates its input', () => {
    const schema = {
      type: 'object',
      required: ['id'],
      properties: { id: { type: 'string', format: 'uuid' }, tags: { type: 'array', items: { type: 'string' } }, ref: { $ref: '#/x' } },
      example: { id: '00000000-0000-4000-8000-000000000000', tags: [] },
    };
    const copy = structuredClone(schema);
    expect(toOpenApi31(schema)).toEqual(copy);

    const nullable = { type: 'string', nullable: true };
    toOpenApi31(nullable);
    expect(nullable).toEqual({ type: 'string', nullable: true });
  });

  it('keeps a property that is named nullable', () => {
    const schema = { type: 'object', properties: { nullable: { type: 'boolean' } }, required: ['nullable'] };
    expect(toOpenApi31(schema)).toEqual(schema);
  });

  it('passes primitives, null and arrays of them through', () => {
    expect(toOpenApi31('x')).toBe('x');
    expect(toOpenApi31(3)).toBe(3);
    expect(toOpenApi31(null)).toBeNull();
    expect(toOpenApi31(['a', 1, null, true])).toEqual(['a', 1, null, true]);
  });
});
