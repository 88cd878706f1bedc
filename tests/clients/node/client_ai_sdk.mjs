// The Vercel AI SDK on chat completions: @ai-sdk/openai's chat model (`openai.chat(...)`) and the
// openai-compatible provider, through generateText, streamText, tools with a step limit, generateObject,
// streamObject, retries on 429 and the APICallError it throws.
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { APICallError, generateObject, generateText, stepCountIs, streamObject, streamText, tool } from "ai";
import { z } from "zod";
import { API_KEY, MODEL, check, main, test } from "./harness.mjs";

globalThis.AI_SDK_LOG_WARNINGS = false; // warnings the reasoning case provokes on purpose

const PROMPT = "Say hello to the matrix.";
const City = z.object({ name: z.string(), country: z.string() });
const chat = (mock, model = MODEL) => createOpenAI({ baseURL: mock.baseURL, apiKey: API_KEY }).chat(model);
const compatible = (mock, supportsStructuredOutputs = false) =>
  createOpenAICompatible({
    name: "chatdouble", baseURL: mock.baseURL, apiKey: API_KEY, includeUsage: true, supportsStructuredOutputs,
  }).chatModel(MODEL);
const weather = tool({
  description: "Current weather in a city.",
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => `18 degrees in ${city}`,
});

test("generateText", async (mock) => {
  const result = await generateText({ model: chat(mock), prompt: PROMPT });
  check(result.text && result.finishReason === "stop", "a text reply");
  check(result.usage.totalTokens === result.usage.inputTokens + result.usage.outputTokens, "usage adds up");
});

test("streamText with usage", async (mock) => {
  const whole = (await generateText({ model: chat(mock), prompt: PROMPT })).text;
  const result = streamText({ model: chat(mock), prompt: PROMPT });
  const pieces = [];
  for await (const piece of result.textStream) pieces.push(piece);
  check(pieces.length > 1 && pieces.join("") === whole, "the stream spells the non-streamed reply");
  check((await result.usage).outputTokens > 0, "usage from the stream");
  const sent = (await mock.completions()).at(-1).body;
  check(sent.stream_options?.include_usage === true, "usage was asked for");
});

test("tools with a step limit", async (mock) => {
  const result = await generateText({
    model: chat(mock), prompt: "What is the weather in Paris?", tools: { weather }, stopWhen: stepCountIs(5),
  });
  const outputs = result.steps.flatMap((step) => step.toolResults).map((r) => r.output);
  check(outputs.length > 0 && outputs.every((o) => o.startsWith("18 degrees in")), "the tool ran");
  check(result.finishReason === "stop" && result.text.includes("18 degrees"), "the loop ended with text");
});

test("streamText with tools", async (mock) => {
  const result = streamText({
    model: chat(mock), prompt: "What is the weather in Paris?", tools: { weather }, stopWhen: stepCountIs(5),
  });
  const kinds = new Set();
  for await (const part of result.fullStream) kinds.add(part.type);
  check(kinds.has("tool-call") && kinds.has("tool-result") && kinds.has("text-delta"), [...kinds].join(","));
  check((await result.text).includes("18 degrees"), "the streamed loop ended with text");
});

test("generateObject", async (mock) => {
  const { object } = await generateObject({ model: chat(mock), schema: City, prompt: "Name a city." });
  check(City.safeParse(object).success, "the object matches the schema");
  const sent = (await mock.completions()).at(-1).body;
  check(sent.response_format?.type === "json_schema", "structured outputs were asked for");
});

test("streamObject", async (mock) => {
  const result = streamObject({ model: chat(mock), schema: City, prompt: "Name a city." });
  const partials = [];
  for await (const partial of result.partialObjectStream) partials.push(partial);
  check(partials.length > 1 && City.safeParse(await result.object).success, "partials, then the object");
});

test("openai-compatible provider: streamText", async (mock) => {
  const result = streamText({ model: compatible(mock), prompt: PROMPT });
  check((await result.text) && (await result.usage).outputTokens > 0, "text and usage");
});

test("openai-compatible provider: generateObject (supportsStructuredOutputs)", async (mock) => {
  const { object } = await generateObject({ model: compatible(mock, true), schema: City, prompt: "Name a city." });
  check(City.safeParse(object).success, "the object matches the schema");
});

// Without supportsStructuredOutputs the provider asks for json_object and leaves the schema and the word
// "json" out of the messages: the real API refuses that with a 400, and so does the mock.
test("openai-compatible provider: generateObject (JSON mode) refused as by the real API", async (mock) => {
  try {
    await generateObject({ model: compatible(mock, false), schema: City, prompt: "Name a city.", maxRetries: 0 });
  } catch (error) {
    check(APICallError.isInstance(error) && error.message.includes("must contain the word 'json'"), `${error}`);
    return;
  }
  throw new Error("json_object without the word json was accepted");
});

test("parallel tool calls streamed in one step", async (mock) => {
  await mock.rules({ match: { stream: true, role: "user" }, tool_calls: [
    { name: "weather", arguments: { city: "Oslo" } },
    { name: "weather", arguments: { city: "Rome" } },
  ] });
  const result = streamText({
    model: chat(mock), prompt: "Weather in Oslo and Rome?", tools: { weather }, stopWhen: stepCountIs(3),
  });
  const steps = await result.steps;
  const outputs = steps[0].toolResults.map((r) => r.output);
  check(JSON.stringify(outputs) === '["18 degrees in Oslo","18 degrees in Rome"]', JSON.stringify(outputs));
  check(steps.length === 2 && (await result.text).includes("18 degrees"), "a second step answers");
});

test("reasoning model (maxOutputTokens, temperature dropped)", async (mock) => {
  const result = await generateText({
    model: chat(mock, "o3-mini"), prompt: PROMPT, maxOutputTokens: 400, temperature: 0.5,
  });
  const sent = (await mock.completions()).at(-1).body;
  check(result.text && sent.max_completion_tokens === 400 && !("temperature" in sent), JSON.stringify(sent));
});

test("mid-stream error surfaced", async (mock) => {
  const model = createOpenAI({ baseURL: mock.baseURL, apiKey: API_KEY,
                               headers: { "X-Mock-Fault": "error-after=2,error=overloaded" } }).chat(MODEL);
  const errors = [];
  const result = streamText({ model, prompt: PROMPT, maxRetries: 0, onError: ({ error }) => errors.push(error) });
  await result.consumeStream();
  check(errors.length === 1 && errors[0].message.includes("overloaded"), errors.map(String).join());
  check((await result.finishReason) === "error", "the stream finished with an error");
});

test("truncated stream visible", async (mock) => {
  const model = createOpenAI({ baseURL: mock.baseURL, apiKey: API_KEY,
                               headers: { "X-Mock-Fault": "truncate-after=2" } }).chat(MODEL);
  const result = streamText({ model, prompt: PROMPT, maxRetries: 0 });
  await result.consumeStream();
  check((await result.finishReason) === "other", `finishReason ${await result.finishReason}`);
});

test("429 retried", async (mock) => {
  await mock.rules({ error: { status: 429, retry_after: 0.01 }, times: 2 });
  const result = await generateText({ model: chat(mock), prompt: PROMPT, maxRetries: 2 });
  check(result.text, "a reply after the retries");
  check(JSON.stringify(await mock.statuses()) === "[429,429,200]", "two 429s, then 200");
});

test("error surfaced", async (mock) => {
  await mock.rules({ error: { status: 400, kind: "context_length_exceeded", param: "messages" } });
  try {
    await generateText({ model: chat(mock), prompt: PROMPT, maxRetries: 0 });
  } catch (error) {
    check(APICallError.isInstance(error) && error.statusCode === 400, `${error}`);
    check(JSON.parse(error.responseBody).error.code === "context_length_exceeded", error.responseBody);
    return;
  }
  throw new Error("no APICallError");
});

await main("vercel-ai-sdk", "ai");
