"""Default prunable set: Linear / Conv weights and SparseLinear values; what is skipped is said;
biases on request; layers pruned with torch.nn.utils.prune are accepted (their masks read)."""
import warnings

import pytest
import torch
import torch.nn.utils.prune as torch_prune
from torch import nn

from sparsenet.errors import ConfigError
from sparsenet.masks import prunable_names, skipped_weights, starting_masks
from sparsenet.nn import SparseLinear
from sparsenet.prune import prune


class Mixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 8)
        self.attn = nn.MultiheadAttention(8, 2)
        self.conv = nn.Conv1d(8, 8, 1)
        self.head = nn.Linear(8, 3)

    def forward(self, tok):
        e = self.emb(tok)  # (L, B, 8)
        a, _ = self.attn(e, e, e)
        return self.head(self.conv(a.permute(1, 2, 0)).mean(2))


def test_default_set_is_linear_and_conv_weights_and_skipped_ones_are_listed():
    m = Mixed()
    assert prunable_names(m) == ["attn.out_proj.weight", "conv.weight", "head.weight"]
    assert skipped_weights(m) == [("emb.weight", "Embedding"), ("attn.in_proj_weight", "MultiheadAttention")]


def test_prune_warns_once_naming_the_skipped_weights():
    m = Mixed()
    with pytest.warns(UserWarning, match=r"2 weight\(s\) outside Linear / Conv layers are not pruned: "
                                         r"emb.weight \(Embedding\), attn.in_proj_weight \(MultiheadAttention\)"):
        masks = prune(m, "magnitude", 0.5)
    assert set(masks) == {"attn.out_proj.weight", "conv.weight", "head.weight"}
    assert bool((m.emb.weight != 0).all())  # untouched
    with warnings.catch_warnings():  # naming them explicitly prunes them, without a warning
        warnings.simplefilter("error")
        masks = prune(m, "magnitude", 0.5, names=["emb.weight"])
    assert int(masks["emb.weight"].sum()) == 40


def test_sparse_linear_is_prunable_under_its_dense_weight_name():
    layer = SparseLinear.from_dense(torch.tensor([[1.0, 0.0, -3.0], [0.5, 2.0, 0.0]]))
    net = nn.Sequential(layer)
    assert prunable_names(net) == ["0.weight"]  # the dense mask's key, as for the nn.Linear it replaced
    masks = prune(net, "magnitude", 0.5)  # 4 live of 6: keep 3 = |-3|, |2|, |1|; the dead 0s stay dead
    assert masks["0.weight"].tolist() == [[True, False, True], [False, True, False]]
    assert layer.nnz == 3  # the pattern shrank
    assert layer.to_dense().tolist() == [[1.0, 0.0, -3.0], [0.0, 2.0, 0.0]]


def test_include_bias_prunes_biases_with_the_weights_by_hand():
    lin = nn.Linear(2, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, -4.0], [3.0, 0.5]]))
        lin.bias.copy_(torch.tensor([2.0, -0.1]))
    net = nn.Sequential(lin)
    assert prunable_names(net, include_bias=True) == ["0.weight", "0.bias"]
    masks = prune(net, "magnitude", 0.5, scope="global", include_bias=True)  # keep 3 of 6: -4, 3, 2
    assert masks["0.weight"].tolist() == [[False, True], [True, False]]
    assert masks["0.bias"].tolist() == [True, False]
    assert lin.bias.tolist() == [2.0, 0.0]
    with pytest.raises(ConfigError, match="include_bias works with structure='unstructured'"):
        prune(nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)), "magnitude", 0.5, structure="neuron",
              include_bias=True)


def test_skip_last_drops_the_whole_last_layer_with_biases():
    net = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 2))
    assert prunable_names(net, skip="last", include_bias=True) == ["0.weight", "0.bias"]
    assert prunable_names(net, skip="first") == ["1.weight"]


def test_torch_pruned_layers_are_pruned_further_among_their_survivors():
    lin = nn.Linear(4, 2, bias=False)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[8.0, 1.0, 7.0, 2.0], [6.0, 3.0, 5.0, 4.0]]))
    torch_mask = torch.tensor([[1, 1, 1, 0], [1, 0, 1, 1]], dtype=torch.float32)
    torch_prune.custom_from_mask(lin, "weight", torch_mask)
    net = nn.Sequential(lin)
    assert prunable_names(net) == ["0.weight_orig"]
    assert starting_masks(net)["0.weight_orig"].tolist() == torch_mask.bool().tolist()
    # 6 survivors (8, 1, 7 | 6, 5, 4); remove 2 more: the smallest survivors, 1 and 4 (never 2 or 3)
    masks = prune(net, "magnitude", 2, scope="global")
    assert masks["0.weight_orig"].tolist() == [[True, False, True, False], [True, False, True, False]]
    net(torch.zeros(1, 4))  # torch recomputes weight = weight_orig * weight_mask before forward
    assert lin.weight.tolist() == [[8.0, 0.0, 7.0, 0.0], [6.0, 0.0, 5.0, 0.0]]
