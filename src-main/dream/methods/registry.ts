// Every dreaming method, one line each: `export * as <name> from './<name>.js'` (the name is what --method takes).
export * as beam from './beam.js';
export * as embed from './embed.js';
export * as fluent from './fluent.js';
export * as latent from './latent.js';
export * as projected from './projected.js';
export * as seeded from './seeded.js';
export * as subspace from './subspace.js';
