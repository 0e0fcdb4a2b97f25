// The command registry: one line per command. To add one, write commands/<name>.ts whose default export is
// defineCommand({...}) and add its line here (the export name is only a handle; `name` inside is what users type).
export { default as info } from './info.js';
export { default as forward } from './forward.js';
export { default as lens } from './lens.js';
export { default as dream } from './dream.js';
export { default as trainLm } from './train-lm.js';
export { default as evalLm } from './eval-lm.js';
export { default as trainAe } from './train-ae.js';
export { default as trainSae } from './train-sae.js';
export { default as interpolate } from './interpolate.js';
export { default as serve } from './serve.js';
export { default as explain } from './explain.js';
export { default as mnist } from './mnist.js';
export { default as trainMnist } from './train-mnist.js';
export { default as scan } from './scan.js';
export { default as neuron } from './neuron.js';
export { default as history } from './history.js';
export { default as buildJudge } from './build-judge.js';
export { default as sweep } from './sweep.js';
export { default as worker } from './worker.js';
