// IBM's watsonx.ai Node SDK as its users drive the Model Gateway: the Gateway class pointed at the mock's
// /ml/gateway/v1 routes with a bearer (or no) authenticator: chat completions plain, streamed and cached,
// text completions, embeddings, the model list and the errors it must throw.
import { Gateway } from "@ibm-cloud/watsonx-ai/gateway";
import { BearerTokenAuthenticator, NoAuthAuthenticator } from "@ibm-cloud/watsonx-ai/authentication";
import { MODEL, check, main, test } from "./harness.mjs";

const HI = [{ role: "user", content: "Say hello to the gateway." }];
const gateway = (mock, authenticator = new BearerTokenAuthenticator({ bearerToken: "wx-token" })) =>
  new Gateway({ version: "2025-01-01", serviceUrl: mock.root, authenticator });

async function gatewayRequests(mock) {
  const { data } = await mock.call("GET", "journal");
  return data.filter((entry) => entry.path.startsWith("/ml/gateway/v1/"));
}

test("chat completion", async (mock) => {
  const reply = await gateway(mock).chat.completion.create({ model: MODEL, messages: HI, maxTokens: 20 });
  const result = reply.result;
  check(reply.status === 200 && result.object === "chat.completion", "a chat completion");
  check(result.cached === false && result.choices[0].message.content, "a fresh reply with text");
  check(result.usage.total_tokens === result.usage.prompt_tokens + result.usage.completion_tokens, "usage adds up");
  const [entry] = await gatewayRequests(mock);
  check(entry.path === "/ml/gateway/v1/chat/completions" && entry.body.max_tokens === 20, "sent to the gateway's route");
  check(entry.headers.authorization?.startsWith("Bearer"), "with the bearer token");
});

test("streamed chat completion", async (mock) => {
  const chat = gateway(mock).chat.completion;
  const whole = (await chat.create({ model: MODEL, messages: HI })).result.choices[0].message.content;
  const stream = await chat.create({ model: MODEL, messages: HI, stream: true });
  let text = "";
  let finish = null;
  for await (const chunk of stream) {
    const choice = chunk.data?.choices?.[0];
    text += choice?.delta?.content ?? "";
    finish = choice?.finish_reason ?? finish;
  }
  check(text === whole && finish === "stop", "the stream spells the non-streamed reply");
});

test("chat completion with cache", async (mock) => {
  const chat = gateway(mock).chat.completion;
  const cache = { enabled: true, threshold: 0.9 };
  const first = (await chat.create({ model: MODEL, messages: HI, cache })).result;
  const second = (await chat.create({ model: MODEL, messages: HI, cache })).result;
  check(first.cached === false && second.cached === true, "the second reply comes from the cache");
  check(second.id === first.id && second.choices[0].message.content === first.choices[0].message.content,
    "the stored reply");
  const statuses = (await gatewayRequests(mock)).map((entry) => entry.status);
  check(statuses.join() === "200,200", "both answered");
});

test("cache with a stream refused", async (mock) => {
  // The SDK reports a refused stream by its status line only; the body the journal saw says why.
  const chat = gateway(mock).chat.completion;
  let thrown;
  try {
    await chat.create({ model: MODEL, messages: HI, stream: true, cache: { enabled: true, threshold: 0.5 } });
  } catch (error) {
    thrown = error;
  }
  check(thrown?.status === 400, `the gateway's 400, got ${thrown}`);
  const [entry] = await gatewayRequests(mock);
  check(entry.status === 400 && entry.body.stream === true, "refused as sent");
});

test("no-auth authenticator", async (mock) => {
  const reply = await gateway(mock, new NoAuthAuthenticator()).chat.completion.create({ model: MODEL, messages: HI });
  check(reply.result.choices[0].finish_reason === "stop", "a reply without credentials");
  const [entry] = await gatewayRequests(mock);
  check(entry.headers.authorization === undefined, "no Authorization header sent");
});

test("model list", async (mock) => {
  const models = await gateway(mock).models.list();
  check(Array.isArray(models) && models.some((model) => model.id === MODEL), "the gateway lists the models");
});

test("error surfaced", async (mock) => {
  await mock.rules({ error: { status: 400, message: "gateway says no" } });
  let thrown;
  try {
    await gateway(mock).chat.completion.create({ model: MODEL, messages: HI });
  } catch (error) {
    thrown = error;
  }
  check(thrown?.status === 400 && thrown.message.includes("gateway says no"), `the error's message, got ${thrown}`);
});

test("text completion", async (mock) => {
  const reply = await gateway(mock).completion.create({ model: "gpt-3.5-turbo-instruct", prompt: "Say hello", maxTokens: 8 });
  check(reply.status === 200 && reply.result.choices[0].text, "a text completion");
  check(reply.result.cached === false, "a fresh reply");
});

test("embeddings", async (mock) => {
  const reply = await gateway(mock).embeddings.completion.create({ model: "text-embedding-3-small", input: "hello" });
  check(reply.status === 200 && reply.result.data[0].embedding.length > 0, "an embedding");
});

await main("watsonx-ai-node", "@ibm-cloud/watsonx-ai");
// The SDK never reads the body of a refused stream, so its keep-alive connection would hold the process
// until the server's idle timeout (75 s); the report is written, so the program ends here.
process.exit(0);
