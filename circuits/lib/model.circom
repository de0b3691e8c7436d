pragma circom 2.1.9;

// Everything a generated model main needs.
include "range.circom";
include "requantize.circom";
include "dense.circom";
include "conv.circom";
include "pool.circom";
include "add.circom";
include "activation.circom";
include "softmax.circom";
include "trees.circom";
include "seq.circom";
include "embedding.circom";
include "attention.circom";
include "argmax.circom";
include "commit.circom";
include "binding.circom";
