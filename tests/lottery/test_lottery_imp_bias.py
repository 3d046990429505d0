"""Lottery with include_bias: the output layer's rate covers its bias too."""
from sparsenet.lottery.imp import layer_rates, level_counts, output_names


def test_output_rate_applies_to_the_whole_last_layer():
    names = ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]
    assert output_names(names) == ["layers.1.weight", "layers.1.bias"]
    assert layer_rates(names, 0.2, 0.1) == {"layers.0.weight": 0.2, "layers.0.bias": 0.2,
                                            "layers.1.weight": 0.1, "layers.1.bias": 0.1}
    sizes = {"layers.0.weight": 2048, "layers.0.bias": 32, "layers.1.weight": 320, "layers.1.bias": 10}
    # round(0.8 * 2048) = 1638, round(0.8 * 32) = 26, round(0.9 * 320) = 288, round(0.9 * 10) = 9
    assert level_counts(sizes, 1, 0.2, 0.1)[1] == {"layers.0.weight": 1638, "layers.0.bias": 26,
                                                   "layers.1.weight": 288, "layers.1.bias": 9}
    assert output_names(["a.weight"]) == ["a.weight"] and output_names([]) == []
