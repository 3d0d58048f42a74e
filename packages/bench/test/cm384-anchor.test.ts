// The cm384 profile against its published anchor: CloudMatrix-Infer prefills DeepSeek at ≈ 5,655 tokens/s per
// NPU with 4K prompts (arXiv 2506.12708v1). The sim charges each rank op by the profile's roofline; here the
// ops one NPU runs for its 4K prompt, as the EP layout spreads them, are summed without the sim host.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DeviceOp, hardwareProfile, simCosts } from '@asap/runtime';
import { attentionOp, checkpointWeightBytes, combineOp, embedOp, expertsOp, lmHeadOp, modelShapeDir, readModelConfig } from '@asap/actors';

test('cm384: DeepSeek-V3 prefill of 4K prompts lands within 10% of 5,655 tokens/s per NPU', async () => {
  const c = await readModelConfig(modelShapeDir('deepseek-v3'));
  const weightBytes = checkpointWeightBytes(c); // fp8 as shipped (CloudMatrix-Infer runs INT8: 1 byte too)
  const { deviceCost } = simCosts(hardwareProfile('cm384'));
  // CloudMatrix-Infer's prefill instance: 16 NPUs (32 dies, EP32), each NPU holding 256 / 16 routed experts.
  // Every NPU prefills one 4,096-token prompt (data-parallel attention); with balanced routing (EPLB) each
  // expert gets 16 × 4,096 × 8 / 256 = 2,048 rows, i.e. each NPU 8 rows per token of its own, as it sends.
  const npus = 16;
  const tokens = 4096;
  const expertsHeld = c.numExperts / npus;
  const rowsPerExpert = (npus * tokens * c.topK) / c.numExperts;
  const ops: DeviceOp[] = [embedOp(c, tokens)];
  for (let layer = 0; layer < c.numLayers; layer++) {
    ops.push(attentionOp(c, layer, tokens, 0, weightBytes));
    if (c.layerKinds[layer] !== 'moe') continue;
    ops.push(expertsOp(c, Array.from({ length: expertsHeld }, () => rowsPerExpert), weightBytes));
    ops.push(combineOp(c, tokens));
  }
  ops.push(lmHeadOp(c, 1, weightBytes));
  const ms = ops.reduce((sum, op) => sum + deviceCost(op, 'npu-0'), 0);
  const tokensPerS = tokens / (ms / 1000);
  assert.ok(Math.abs(tokensPerS - 5655) / 5655 < 0.1, `predicted ${tokensPerS.toFixed(0)} tokens/s per NPU (${ms.toFixed(1)} ms per 4K prompt)`);
});
