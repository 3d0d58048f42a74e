import { readModelConfig, attentionOp, expertsOp, combineOp, embedOp, lmHeadOp, modelShapeDir, checkpointWeightBytes } from '@asap/actors';
const c = await readModelConfig(modelShapeDir('deepseek-v3'));
const wb = checkpointWeightBytes(c);
const T = 4096, N = 16, per = c.numExperts / N, rows = (T * c.topK) / per;
const ops = [embedOp(c, T)];
for (let l = 0; l < c.numLayers; l++) {
  ops.push(attentionOp(c, l, T, 0, wb));
  if (c.layerKinds[l] === 'moe') { ops.push(expertsOp(c, Array(per).fill(rows), wb)); ops.push(combineOp(c, T)); }
}
ops.push(lmHeadOp(c, 1, wb));
const byName = new Map<string, {flops:number, bytes:number, n:number}>();
for (const o of ops) { const t = byName.get(o.name) ?? {flops:0,bytes:0,n:0}; t.flops += o.flops??0; t.bytes += o.bytes??0; t.n++; byName.set(o.name,t); }
let F=0,B=0; for (const [k,v] of byName) { console.log(k, v.n, (v.flops/1e12).toFixed(2),'TFLOP', (v.bytes/1e9).toFixed(2),'GB', 'flop/byte', (v.flops/v.bytes).toFixed(0)); F+=v.flops; B+=v.bytes; }
console.log('wb', wb, 'total TFLOP', F/1e12, 'GFLOP/token', F/T/1e9, 'GB', B/1e9);
const t = T/5655; console.log('time s', t, 'achieved TFLOP/s', F/t/1e12, 'eff vs 752', F/t/752e12, 'mem time at 3.2TB/s', B/3.2e12);
