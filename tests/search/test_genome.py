"""Genomes and mutations: every operator keeps a genome valid, the structural ones do what they say,
innovation numbers are shared, and `pack` is the dense connectivity of each genome."""
import numpy as np
import pytest

from sparsenet.search.genome import (Genome, Innovations, MutationRates, add_connection, add_node, check_genome,
                                     crossover, initial_genome, mutate, pack, perturb_weights, remove_connection)


@pytest.fixture
def innov():
    return Innovations(11, 2)


def test_initial_genome_is_the_minimal_topology(innov):
    g = initial_genome(innov, np.random.default_rng(0))
    assert g.n_connections == 22 and g.hidden == [] and check_genome(g) == []
    assert set(zip(g.src.tolist(), g.dst.tolist())) == {(s, d) for s in range(11) for d in (11, 12)}
    h = initial_genome(innov, np.random.default_rng(1))
    assert g.innovation.tolist() == h.innovation.tolist()  # the same connections, the same numbers
    sparse = initial_genome(innov, np.random.default_rng(2), density=0.3)
    assert 0 < sparse.n_connections < 22 and check_genome(sparse) == []


def test_add_node_splits_a_connection(innov):
    rng = np.random.default_rng(0)
    g = initial_genome(innov, rng)
    h = add_node(g, rng, innov)
    assert check_genome(h) == [] and h.n_connections == 23 and len(h.hidden) == 1
    new = h.hidden[0]
    gone = set(zip(g.src.tolist(), g.dst.tolist())) - set(zip(h.src.tolist(), h.dst.tolist()))
    assert len(gone) == 1
    (a, b), = gone
    w_old = g.weight[(g.src == a) & (g.dst == b)][0]
    w_in = h.weight[(h.src == a) & (h.dst == new)]
    w_out = h.weight[(h.src == new) & (h.dst == b)]
    assert w_in.tolist() == [1.0] and w_out.tolist() == [w_old]
    assert g.n_connections == 22  # the parent is untouched


def test_the_same_split_gets_the_same_node_and_innovations(innov):
    g = initial_genome(innov, np.random.default_rng(0))
    a = add_node(g, np.random.default_rng(5), innov)
    b = add_node(g, np.random.default_rng(5), innov)
    assert a.hidden == b.hidden and sorted(a.innovation.tolist()) == sorted(b.innovation.tolist())


def test_add_and_remove_connection(innov):
    rng = np.random.default_rng(0)
    g = initial_genome(innov, rng)
    g = add_node(g, rng, innov)
    more = add_connection(g, rng, innov)
    assert more.n_connections == g.n_connections + 1 and check_genome(more) == []
    less = remove_connection(g, rng)
    assert less.n_connections == g.n_connections - 1 and check_genome(less) == []
    # removing both connections of a hidden node removes the node
    h = g.hidden[0]
    only = Genome(11, 2, [h], np.array([0, h]), np.array([h, 12]), np.array([1.0, 2.0]), np.array([0, 1]))
    one = remove_connection(only, np.random.default_rng(0))
    assert one.hidden == [h] and check_genome(one) == []
    none = remove_connection(one, np.random.default_rng(0))
    assert none.n_connections == 0 and none.hidden == [] and check_genome(none) == []
    assert remove_connection(none, rng).n_connections == 0 and add_node(none, rng, innov).n_connections == 0


def test_add_connection_on_a_full_genome_changes_nothing(innov):
    g = Genome(1, 1, [], np.array([0, 1]), np.array([1, 1]), np.array([0.5, 0.5]), np.array([0, 1]))
    assert add_connection(g, np.random.default_rng(0), innov).n_connections == 2  # both possible pairs exist


def test_perturb_weights_moves_weights_within_the_limit(innov):
    g = initial_genome(innov, np.random.default_rng(0))
    g.weight[:] = 7.9
    p = perturb_weights(g, np.random.default_rng(1), rate=1.0, power=5.0)
    assert (p.weight != g.weight).any() and check_genome(p) == []
    assert np.abs(p.weight).max() <= 8.0
    assert (g.weight == 7.9).all()


def test_long_random_mutation_chains_keep_genomes_valid(innov):
    rates = MutationRates(weights=0.8, add_connection=0.5, remove_connection=0.3, add_node=0.2)
    for seed in range(20):
        rng = np.random.default_rng(seed)
        g = initial_genome(innov, rng, density=0.5)
        for _ in range(60):
            g = mutate(g, rng, innov, rates)
            assert check_genome(g) == [], (seed, check_genome(g))


def test_check_genome_finds_broken_genomes():
    ok = Genome(11, 2, [13], np.array([0, 13]), np.array([13, 12]), np.array([1.0, 2.0]), np.array([0, 1]))
    assert check_genome(ok) == []
    bad = {
        "into input": Genome(11, 2, [], np.array([0]), np.array([3]), np.array([1.0]), np.array([0])),
        "unknown node": Genome(11, 2, [], np.array([0]), np.array([14]), np.array([1.0]), np.array([0])),
        "duplicate pair": Genome(11, 2, [], np.array([0, 0]), np.array([11, 11]), np.array([1.0, 2.0]), np.array([0, 1])),
        "shared innovation": Genome(11, 2, [], np.array([0, 1]), np.array([11, 11]), np.array([1.0, 2.0]), np.array([0, 0])),
        "weight": Genome(11, 2, [], np.array([0]), np.array([11]), np.array([np.nan]), np.array([0])),
        "orphan": Genome(11, 2, [13], np.array([0]), np.array([11]), np.array([1.0]), np.array([0])),
    }
    for what, g in bad.items():
        assert check_genome(g), what


def test_pack_is_each_genomes_dense_connectivity(innov):
    rng = np.random.default_rng(3)
    rates = MutationRates(add_connection=0.6, remove_connection=0.2, add_node=0.3)
    genomes = [initial_genome(innov, rng, density=0.6)]
    for _ in range(12):
        genomes.append(mutate(genomes[-1], rng, innov, rates))
    genomes.append(Genome(11, 2, [], np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64)))
    node_ptr, in_ptr, src, w = pack(genomes)
    assert node_ptr[-1] == len(in_ptr) - 1 == sum(g.n_nodes for g in genomes)
    for i, g in enumerate(genomes):
        lo, hi = node_ptr[i], node_ptr[i + 1]
        local = {nid: j for j, nid in enumerate(g.nodes())}
        want = np.zeros((g.n_nodes, g.n_nodes))
        for s, d, x in zip(g.src, g.dst, g.weight):
            want[local[int(d)], local[int(s)]] = x
        got = np.zeros_like(want)
        for n in range(lo, hi):
            for c in range(in_ptr[n], in_ptr[n + 1]):
                assert lo <= src[c] < hi  # no connection leaves its own individual
                got[n - lo, src[c] - lo] = w[c]
        np.testing.assert_array_equal(got, want)


def test_genome_and_innovations_round_trip(innov):
    rng = np.random.default_rng(0)
    g = add_node(initial_genome(innov, rng), rng, innov)
    back = Genome.from_state(g.state())
    assert back.state() == g.state()
    again = Innovations.from_state(innov.state())
    assert again.state() == innov.state()


def test_crossover_aligns_by_innovation():
    # fit: innovations 0, 1, 2 (2 goes through hidden node 13); other: 0, 1, 5
    fit = Genome(11, 2, [13], np.array([0, 1, 13]), np.array([11, 12, 12]), np.array([1.0, 2.0, 3.0]), np.array([0, 1, 2]))
    other = Genome(11, 2, [], np.array([0, 1, 2]), np.array([11, 12, 11]), np.array([-1.0, -2.0, -5.0]), np.array([0, 1, 5]))
    seen = set()
    for seed in range(40):
        c = crossover(fit, other, np.random.default_rng(seed))
        assert check_genome(c) == [] and c.innovation.tolist() == [0, 1, 2]  # the fitter parent's genes only
        assert c.hidden == [13] and c.weight[2] == 3.0
        assert c.weight[0] in (1.0, -1.0) and c.weight[1] in (2.0, -2.0)
        seen.add((c.weight[0], c.weight[1]))
    assert len(seen) == 4  # each shared gene comes from either parent
    # a fitter parent without the hidden node gives a child without it
    c = crossover(other, fit, np.random.default_rng(0))
    assert c.hidden == [] and c.innovation.tolist() == [0, 1, 5] and check_genome(c) == []


def test_crossover_of_mutated_relatives_stays_valid(innov):
    rates = MutationRates(add_connection=0.5, remove_connection=0.3, add_node=0.3)
    rng = np.random.default_rng(7)
    pool = [initial_genome(innov, rng, density=0.5) for _ in range(6)]
    for _ in range(40):
        pool = [mutate(g, rng, innov, rates) for g in pool]
        a, b = rng.choice(len(pool), 2, replace=False)
        child = crossover(pool[a], pool[b], rng)
        assert check_genome(child) == []
        pool[int(rng.integers(len(pool)))] = child
