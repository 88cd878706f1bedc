// openai-node as its users drive it: create, streaming with usage, the .stream() helper, the tool runner,
// zodResponseFormat with .parse(), retries on 429 and the errors it must throw.
import OpenAI from "openai";
import { zodFunction, zodResponseFormat } from "openai/helpers/zod";
import { z } from "zod";
import { API_KEY, MODEL, check, main, test } from "./harness.mjs";

const HI = [{ role: "user", content: "Say hello to the matrix." }];
const City = z.object({ name: z.string(), country: z.string() });
const client = (mock, options = {}) => new OpenAI({ baseURL: mock.baseURL, apiKey: API_KEY, ...options });
const weather = ({ city }) => `18 degrees in ${city}`;
const WEATHER_PARAMETERS = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };

test("create", async (mock) => {
  const reply = await client(mock).chat.completions.create({ model: MODEL, messages: HI });
  check(reply.choices[0].finish_reason === "stop" && reply.choices[0].message.content, "a text reply");
  check(reply.usage.total_tokens === reply.usage.prompt_tokens + reply.usage.completion_tokens, "usage adds up");
});

test("streaming with usage", async (mock) => {
  const chat = client(mock);
  const whole = (await chat.chat.completions.create({ model: MODEL, messages: HI })).choices[0].message.content;
  const stream = await chat.chat.completions.create({
    model: MODEL, messages: HI, stream: true, stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
  check(text === whole, "the stream spells the non-streamed reply");
  const last = chunks.at(-1);
  check(last.choices.length === 0 && last.usage.completion_tokens > 0, "usage in the last chunk");
});

test(".stream() helper events", async (mock) => {
  const stream = client(mock).chat.completions.stream({ model: MODEL, messages: HI });
  const deltas = [];
  stream.on("content", (delta) => deltas.push(delta));
  const final = await stream.finalChatCompletion();
  check(deltas.length > 1 && deltas.join("") === final.choices[0].message.content, "content events add up");
});

test("tool runner (runTools)", async (mock) => {
  const runner = client(mock).chat.completions.runTools({
    model: MODEL,
    messages: [{ role: "user", content: "What is the weather in Paris?" }],
    tools: [{
      type: "function",
      function: { name: "get_weather", description: "Current weather in a city.", parameters: WEATHER_PARAMETERS,
                  parse: JSON.parse, function: weather },
    }],
  });
  const content = await runner.finalContent();
  const results = runner.messages.filter((m) => m.role === "tool").map((m) => m.content);
  check(results.length > 0 && results.every((r) => r.startsWith("18 degrees in")), "the tool ran");
  check(content.includes("18 degrees"), "the final answer quotes the tool");
});

test("streaming tool runner", async (mock) => {
  const runner = client(mock).chat.completions.runTools({
    model: MODEL, stream: true,
    messages: [{ role: "user", content: "What is the weather in Paris?" }],
    tools: [{ type: "function", function: { name: "get_weather", parameters: WEATHER_PARAMETERS, parse: JSON.parse,
                                            function: weather } }],
  });
  const content = await runner.finalContent();
  check(content.includes("18 degrees"), "the streamed loop ends with the tool's result");
});

test("zodResponseFormat .parse()", async (mock) => {
  const reply = await client(mock).chat.completions.parse({
    model: MODEL, messages: HI, response_format: zodResponseFormat(City, "city"),
  });
  const parsed = reply.choices[0].message.parsed;
  check(City.safeParse(parsed).success, "parsed matches the zod schema");
});

test("zodFunction .parse()", async (mock) => {
  const reply = await client(mock).chat.completions.parse({
    model: MODEL, messages: HI, tools: [zodFunction({ name: "find_city", parameters: City })],
  });
  const call = reply.choices[0].message.tool_calls[0];
  check(City.safeParse(call.function.parsed_arguments).success, "parsed arguments match the zod schema");
});

test("withResponse headers", async (mock) => {
  const { data, response } = await client(mock).chat.completions.create({ model: MODEL, messages: HI }).withResponse();
  check(response.headers.get("x-request-id") && data.choices[0].message.content, "headers and body");
});

test(".stream() parallel tool calls", async (mock) => {
  await mock.rules({ match: { stream: true }, tool_calls: [
    { name: "find_city", arguments: { name: "Oslo", country: "Norway" } },
    { name: "find_city", arguments: { name: "Rome", country: "Italy" } },
  ] });
  const stream = client(mock).chat.completions.stream({
    model: MODEL, messages: HI, tools: [zodFunction({ name: "find_city", parameters: City })],
  });
  const done = [];
  stream.on("tool_calls.function.arguments.done", (event) => done.push([event.index, event.parsed_arguments.name]));
  const final = await stream.finalChatCompletion();
  check(JSON.stringify(done) === '[[0,"Oslo"],[1,"Rome"]]', JSON.stringify(done));
  const calls = final.choices[0].message.tool_calls;
  check(calls.map((c) => c.function.parsed_arguments.country).join() === "Norway,Italy", "both calls parsed");
});

test("reasoning model", async (mock) => {
  const reply = await client(mock).chat.completions.create({
    model: "o3-mini", messages: HI, max_completion_tokens: 400, reasoning_effort: "low",
  });
  check(reply.choices[0].message.content && reply.usage.completion_tokens_details.reasoning_tokens >= 0, "a reply");
});

test("429 retried", async (mock) => {
  await mock.rules({ error: { status: 429, retry_after: 0.01 }, times: 2 });
  const reply = await client(mock, { maxRetries: 2 }).chat.completions.create({ model: MODEL, messages: HI });
  check(reply.choices[0].message.content, "a reply after the retries");
  check(JSON.stringify(await mock.statuses()) === "[429,429,200]", "two 429s, then 200");
});

test("error surfaced", async (mock) => {
  await mock.rules({ error: { status: 400, kind: "context_length_exceeded", param: "messages" } });
  try {
    await client(mock).chat.completions.create({ model: MODEL, messages: HI });
  } catch (error) {
    check(error instanceof OpenAI.BadRequestError && error.code === "context_length_exceeded", `${error}`);
    return;
  }
  throw new Error("no BadRequestError");
});

test("mid-stream error surfaced", async (mock) => {
  const stream = await client(mock, { maxRetries: 0 }).chat.completions.create(
    { model: MODEL, messages: HI, stream: true },
    { headers: { "X-Mock-Fault": "error-after=2,error=overloaded" } },
  );
  try {
    for await (const chunk of stream) check(chunk.choices, "chunks before the error");
  } catch (error) {
    check(error instanceof OpenAI.APIError, `${error}`);
    return;
  }
  throw new Error("the stream ended without an error");
});

test("truncated stream visible", async (mock) => {
  const stream = client(mock).chat.completions.stream(
    { model: MODEL, messages: HI }, { headers: { "X-Mock-Fault": "truncate-after=2" } });
  try {
    await stream.finalChatCompletion();
  } catch (error) {
    check(`${error}`.includes("missing finish_reason"), `${error}`);
    return;
  }
  throw new Error("a stream cut short looked finished");
});

await main("openai-node", "openai");
