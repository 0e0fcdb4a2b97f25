// The protocol's explainer and simulator over a chat endpoint.
import type { ChatClient } from './openai.js';
import { LLMError } from './openai.js';
import { parseSimulation } from './parse.js';
import { cleanExplanation, explainerMessages, simulatorMessages } from './prompts.js';
import type { ExplainInput, Explainer, Simulator } from './types.js';

export function llmExplainer(client: ChatClient): Explainer {
  return {
    name: `llm:${client.settings.model}`,
    async explain(input: ExplainInput, signal?: AbortSignal) {
      const label = `explain L${input.layer}N${input.neuron}${input.synthetic.length ? ' (with dreams)' : ''}`;
      const reply = await client.chat(explainerMessages(input), { signal, label, maxTokens: 80 });
      const explanation = cleanExplanation(reply.content);
      if (!explanation) throw new LLMError(`the explainer's reply holds no explanation: ${JSON.stringify(reply.content.slice(0, 120))}`, 'malformed');
      return explanation;
    },
  };
}

export function llmSimulator(client: ChatClient): Simulator {
  let simulations = 0;
  return {
    name: `llm:${client.settings.model}`,
    async simulate(explanation: string, tokens: string[], signal?: AbortSignal) {
      const label = `simulate #${++simulations} (${tokens.length} tokens)`;
      // Room for "token<TAB>10" per token, with slack.
      const reply = await client.chat(simulatorMessages(explanation, tokens), { signal, label, maxTokens: 16 * tokens.length + 64 });
      return parseSimulation(reply.content, tokens.length);
    },
  };
}
