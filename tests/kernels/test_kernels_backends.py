"""Every kernel backend against the dense oracle: forward (spmm), dX (spmm_t), dW (sddmm), update."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

from sparsenet.kernels.backends import BACKENDS, backend_for
from sparsenet.kernels.autograd import sparse_linear
from sparsenet.kernels.pattern import CSRPattern
from sparsenet.errors import SparsenetError

NAMES = ["numba", "torch", "reference"]


def _problem(out_f, in_f, density, batch, seed=0, dtype=torch.float32, empty_rows=(), empty_cols=()):
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(out_f, in_f, generator=g) < density
    for r in empty_rows:
        mask[r] = False
    for c in empty_cols:
        mask[:, c] = False
    w = torch.randn(out_f, in_f, generator=g, dtype=dtype) * mask
    row, col = mask.nonzero(as_tuple=True)
    crow = torch.zeros(out_f + 1, dtype=torch.int64)
    crow[1:] = torch.cumsum(torch.bincount(row, minlength=out_f), 0)
    p = CSRPattern.build(out_f, in_f, crow, col)
    values = w[row, col].contiguous()
    xt = torch.randn(in_f, batch, generator=g, dtype=dtype)
    gt = torch.randn(out_f, batch, generator=g, dtype=dtype)
    bias = torch.randn(out_f, generator=g, dtype=dtype)
    return p, w, mask, values, xt, gt, bias


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-4) if dtype == torch.float32 else dict(rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape", [(7, 11, 1), (7, 11, 3), (33, 17, 64), (40, 50, 130), (5, 9, 67), (6, 8, 32), (6, 8, 16), (6, 8, 119)])
def test_products_match_dense(name, dtype, shape):
    out_f, in_f, batch = shape
    p, w, mask, values, xt, gt, bias = _problem(out_f, in_f, 0.3, batch, dtype=dtype, empty_rows=(2,), empty_cols=(3,))
    be = BACKENDS.get(name)
    torch.testing.assert_close(be.spmm(p, values, xt, bias), w @ xt + bias[:, None], **_tol(dtype))
    torch.testing.assert_close(be.spmm(p, values, xt, None), w @ xt, **_tol(dtype))
    torch.testing.assert_close(be.spmm_t(p, values, gt), w.t() @ gt, **_tol(dtype))
    rows = be.spmm_t_rows(p, values, gt)
    assert rows.is_contiguous() and rows.shape == (batch, in_f)
    torch.testing.assert_close(rows, gt.t() @ w, **_tol(dtype))
    torch.testing.assert_close(be.sddmm(p, gt, xt), (gt @ xt.t())[mask], **_tol(dtype))


# every path of the generated tiles: the narrow tiles of 2, 4, 8 and 16 columns (exact and padded),
# 64-tiles, the 32 tile, the padded remainder (2..31), the single last column, and their combinations
TAIL_BATCHES = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 34, 63, 64, 65, 66, 97, 127, 129]


@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
@pytest.mark.parametrize("batch", TAIL_BATCHES)
def test_numba_every_batch_size_matches_dense(batch, parallel, monkeypatch):
    if parallel:
        monkeypatch.setattr("sparsenet.kernels.backends.PARALLEL_MIN_WORK", 0)
    # 37 x 53: chunks of 16 rows for the row-major dX end in a partial chunk; rows and columns empty
    p, w, mask, values, xt, gt, bias = _problem(37, 53, 0.2, batch, seed=batch,
                                                 empty_rows=(0, 5, 36), empty_cols=(1, 52))
    be = BACKENDS.get("numba")
    torch.testing.assert_close(be.spmm(p, values, xt, bias), w @ xt + bias[:, None], **_tol(torch.float32))
    torch.testing.assert_close(be.spmm_t(p, values, gt), w.t() @ gt, **_tol(torch.float32))
    torch.testing.assert_close(be.spmm_t_rows(p, values, gt), gt.t() @ w, **_tol(torch.float32))
    torch.testing.assert_close(be.sddmm(p, gt, xt), (gt @ xt.t())[mask], **_tol(torch.float32))


def test_hand_computed_products():
    # W = [[0, 2, 0], [1, 0, -1]], x = [1, 2, 3]: y = [4, -2]; W^T g for g = [1, 10]: [10, 2, -10];
    # dW on the pattern = g_r * x_c: (0,1) -> 2, (1,0) -> 10, (1,2) -> 30.
    p = CSRPattern.build(2, 3, torch.tensor([0, 1, 3]), torch.tensor([1, 0, 2]))
    values = torch.tensor([2.0, 1.0, -1.0])
    xt, gt = torch.tensor([[1.0], [2.0], [3.0]]), torch.tensor([[1.0], [10.0]])
    for name in NAMES:
        be = BACKENDS.get(name)
        assert be.spmm(p, values, xt, None).flatten().tolist() == [4.0, -2.0]
        assert be.spmm_t(p, values, gt).flatten().tolist() == [10.0, 2.0, -10.0]
        assert be.sddmm(p, gt, xt).tolist() == [2.0, 10.0, 30.0]


def test_updating_values_between_forward_and_backward_is_refused():
    p, w, mask, values, xt, gt, bias = _problem(6, 5, 0.5, 4)
    v = values.clone().requires_grad_(True)
    y = sparse_linear(xt.t().clone().requires_grad_(True), v, None, p)
    with torch.no_grad():
        v.mul_(2.0)  # autograd's version check: dX and dW must not mix old and new weights
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_transposed_pattern_reads_fresh_values():
    p, w, mask, values, xt, gt, bias = _problem(6, 5, 0.5, 4)
    be = BACKENDS.get("numba")
    values.mul_(3.0)  # an "optimizer step" in place: nothing to refresh
    torch.testing.assert_close(be.spmm_t(p, values, gt), (3 * w).t() @ gt)


@pytest.mark.parametrize("name", NAMES)
def test_all_pruned_layer(name):
    p, w, mask, values, xt, gt, bias = _problem(4, 6, 0.0, 5)
    assert p.nnz == 0
    be = BACKENDS.get(name)
    torch.testing.assert_close(be.spmm(p, values, xt, bias), bias[:, None].expand(4, 5))
    assert torch.equal(be.spmm_t(p, values, gt), torch.zeros(6, 5))
    assert torch.equal(be.spmm_t_rows(p, values, gt), torch.zeros(5, 6))
    assert be.sddmm(p, gt, xt).numel() == 0


@pytest.mark.parametrize("name", NAMES)
def test_gradcheck_float64(name):
    p, w, mask, values, xt, gt, bias = _problem(5, 7, 0.4, 3, dtype=torch.float64, empty_rows=(1,))
    x = xt.t().clone().requires_grad_(True)
    v = values.clone().requires_grad_(True)
    b = bias.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x, v, b: sparse_linear(x, v, b, p, name), (x, v, b))


@pytest.mark.parametrize("layout", ["row-major", "feature-major", "strided"])
def test_autograd_any_input_layout_matches_dense(layout):
    p, w, mask, values, xt, gt, bias = _problem(9, 12, 0.3, 70)
    base = torch.randn(70, 24)
    x = {"row-major": base[:, :12].contiguous(), "feature-major": xt.t(), "strided": base[:, ::2]}[layout]
    x = x.detach().requires_grad_(True)
    v = values.clone().requires_grad_(True)
    y = sparse_linear(x, v, bias, p)
    xd = x.detach().clone().requires_grad_(True)
    wd = w.clone().requires_grad_(True)
    yd = torch.nn.functional.linear(xd, wd, bias)
    torch.testing.assert_close(y, yd)
    gy = torch.randn(70, 9)
    y.backward(gy)
    yd.backward(gy)
    torch.testing.assert_close(x.grad, xd.grad)
    torch.testing.assert_close(v.grad, wd.grad[mask])


@pytest.mark.parametrize("make_opt", [lambda ps: torch.optim.SGD(ps, lr=0.1),
                                      lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
                                      lambda ps: torch.optim.Adam(ps, lr=0.01)], ids=["sgd", "momentum", "adam"])
def test_update_over_live_values_matches_dense(make_opt):
    # Dense training of the masked weight: off-pattern gradients are exactly 0, so SGD, momentum
    # and Adam leave those weights at 0 and the on-pattern trajectory must equal the sparse one.
    p, w, mask, values, xt, gt, bias = _problem(8, 10, 0.3, 16)
    v = values.clone().requires_grad_(True)
    wd = w.clone().requires_grad_(True)
    x = xt.t()
    opt_s, opt_d = make_opt([v]), make_opt([wd])
    for _ in range(3):
        for opt, out in ((opt_s, lambda: sparse_linear(x, v, None, p)), (opt_d, lambda: x @ (wd * mask).t())):
            opt.zero_grad()
            out().pow(2).sum().backward()
            opt.step()
    torch.testing.assert_close(v.detach(), wd.detach()[mask])
    assert torch.equal(wd.detach()[~mask], torch.zeros(int((~mask).sum())))  # stayed off-pattern


def per_thread_count(fn, counts=(1, 2)) -> list:
    """fn() under torch.set_num_threads(n) for each n in `counts`; the thread count is restored."""
    old = torch.get_num_threads()
    try:
        outs = []
        for n in counts:
            torch.set_num_threads(n)
            outs.append(fn())
        return outs
    finally:
        torch.set_num_threads(old)


@pytest.mark.parametrize("batch", [96, 16, 5, 3, 1])  # batches 1..16: the input gradient sums fixed row blocks, not one per thread
def test_numba_results_identical_for_one_and_two_threads(monkeypatch, batch):
    monkeypatch.setattr("sparsenet.kernels.backends.PARALLEL_MIN_WORK", 0)  # use the parallel kernels
    p, w, mask, values, xt, gt, bias = _problem(300, 200, 0.1, batch)
    be = BACKENDS.get("numba")
    outs = per_thread_count(lambda: (be.spmm(p, values, xt, bias), be.spmm_t(p, values, gt),
                                     be.spmm_t_rows(p, values, gt), be.sddmm(p, gt, xt),
                                     be.linear(p, values, xt.t(), bias),
                                     *be.backward(p, values, gt, xt, True, True, True)))
    for a, b in zip(*outs):
        assert torch.equal(a, b)
    torch.testing.assert_close(outs[0][1], w.t() @ gt, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
@pytest.mark.parametrize("batch", [1, 2, 3, 4, 5, 17])
def test_backward_matches_dense_for_every_need(name, dtype, parallel, batch, monkeypatch):
    # 2..4 columns: the numba backend computes dX and dW in one pass; any other case, or one of
    # the two alone, is the separate products
    if parallel:
        monkeypatch.setattr("sparsenet.kernels.backends.PARALLEL_MIN_WORK", 0)
    p, w, mask, values, xt, gt, bias = _problem(37, 53, 0.2, batch, seed=batch, dtype=dtype,
                                                 empty_rows=(0, 36), empty_cols=(1, 52))
    be = BACKENDS.get(name)
    for need_dx, need_dw in ((True, True), (True, False), (False, True)):
        for rows_out in (False, True):
            gx, gv = be.backward(p, values, gt, xt, need_dx, need_dw, rows_out)
            assert (gx is None) == (not need_dx) and (gv is None) == (not need_dw)
            if need_dx:
                assert gx.shape == (batch, 53) and (gx.is_contiguous() or not rows_out)
                torch.testing.assert_close(gx, gt.t() @ w, **_tol(dtype))
            if need_dw:
                torch.testing.assert_close(gv, (gt @ xt.t())[mask], **_tol(dtype))


def test_fused_backward_of_an_all_pruned_layer():
    p, w, mask, values, xt, gt, bias = _problem(4, 6, 0.0, 3)
    gx, gv = BACKENDS.get("numba").backward(p, values, gt, xt, True, True, True)
    assert torch.equal(gx, torch.zeros(3, 6)) and gv.numel() == 0


@pytest.mark.parametrize("batch", [1, 2, 3, 9, 16, 17])
def test_narrow_input_gradient_reads_values_in_place(batch, monkeypatch):
    # batches up to 16 scatter through W's own rows: no W^T-order copy of the values is gathered
    # (that gather cost as much as the product); wider batches run the tiled W^T product on it
    be = BACKENDS.get("numba")
    gathered = []
    real = type(be)._values_t
    monkeypatch.setattr(type(be), "_values_t", lambda self, p, v: gathered.append(1) or real(self, p, v))
    p, w, mask, values, xt, gt, bias = _problem(30, 40, 0.2, batch, seed=batch, empty_rows=(0,), empty_cols=(39,))
    torch.testing.assert_close(be.spmm_t(p, values, gt), w.t() @ gt, **_tol(torch.float32))
    torch.testing.assert_close(be.spmm_t_rows(p, values, gt), gt.t() @ w, **_tol(torch.float32))
    assert len(gathered) == (2 if batch > 16 else 0)


def test_batch_one_indices_wider_than_16_bits():
    # batch 1 reads uint16 indices where they fit; a 70,000-wide layer must keep int32 ones
    in_f = 70_000
    col = torch.tensor([0, 65_535, 65_536, 69_999, 3, 66_000])
    crow = torch.tensor([0, 4, 4, 6])  # row 1 is empty
    p = CSRPattern.build(3, in_f, crow, col)
    values = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    w = torch.zeros(3, in_f)
    w[torch.tensor([0, 0, 0, 0, 2, 2]), col] = values
    for batch in (1, 3):  # batch 3: the scatter dX reads the same narrowed indices
        xt = torch.randn(in_f, batch)
        gt = torch.randn(3, batch)
        for name in ("numba", "reference"):
            be = BACKENDS.get(name)
            torch.testing.assert_close(be.spmm(p, values, xt, None), w @ xt)
            torch.testing.assert_close(be.spmm_t(p, values, gt), w.t() @ gt)
            torch.testing.assert_close(be.spmm_t_rows(p, values, gt), gt.t() @ w)
            torch.testing.assert_close(be.sddmm(p, gt, xt), (gt @ xt.t())[w != 0])


@settings(max_examples=25, deadline=None)
@given(out_f=st.integers(1, 20), in_f=st.integers(1, 20), batch=st.integers(1, 70),
       density=st.floats(0.0, 1.0), seed=st.integers(0, 10_000))
def test_property_numba_matches_reference(out_f, in_f, batch, density, seed):
    p, w, mask, values, xt, gt, bias = _problem(out_f, in_f, density, batch, seed=seed)
    a, r = BACKENDS.get("numba"), BACKENDS.get("reference")
    torch.testing.assert_close(a.spmm(p, values, xt, bias), r.spmm(p, values, xt, bias), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(a.spmm_t(p, values, gt), r.spmm_t(p, values, gt), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(a.spmm_t_rows(p, values, gt), r.spmm_t_rows(p, values, gt), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(a.sddmm(p, gt, xt), r.sddmm(p, gt, xt), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_no_grad_forward_builds_no_graph_and_matches(name):
    p, w, mask, values, xt, gt, bias = _problem(9, 12, 0.3, 5)
    v = values.clone().requires_grad_(True)
    x = xt.t().contiguous()
    with torch.no_grad():
        y = sparse_linear(x, v, bias, p, name)
    assert y.grad_fn is None and not y.requires_grad
    torch.testing.assert_close(y, x @ w.t() + bias)
    with torch.inference_mode():
        torch.testing.assert_close(sparse_linear(x, v, bias, p, name), y)
    frozen = sparse_linear(x, values, bias, p, name)  # nothing requires grad: no node either
    assert frozen.grad_fn is None
    torch.testing.assert_close(frozen, y)


def test_row_major_input_gets_a_row_major_gradient():
    p, w, mask, values, xt, gt, bias = _problem(9, 12, 0.3, 40)
    for x, contiguous in ((xt.t().contiguous(), True), (xt.t(), False)):
        x = x.detach().requires_grad_(True)
        sparse_linear(x, values, None, p, "numba").backward(gt.t())
        assert x.grad.is_contiguous() == contiguous
        torch.testing.assert_close(x.grad, gt.t() @ w)


def test_backend_resolution_and_errors():
    assert backend_for("auto", torch.device("cpu"), torch.float32).name == "numba"
    assert backend_for("auto", torch.device("cpu"), torch.bfloat16).name == "torch"
    with pytest.raises(SparsenetError, match="unknown kernel backend 'mkl'.*numba, reference, torch"):
        backend_for("mkl", torch.device("cpu"), torch.float32)
    with pytest.raises(SparsenetError, match="'numba' runs float32/float64 on CPU, got torch.float16"):
        backend_for("numba", torch.device("cpu"), torch.float16)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("batch", [1, 2, 33])
def test_inference_linear_matches_dense_for_any_input_layout(name, batch):
    p, w, mask, values, xt, gt, bias = _problem(9, 12, 0.3, batch)
    be = BACKENDS.get(name)
    base = torch.randn(batch, 24)
    for x in (xt.t().contiguous(), xt.t(), base[:, ::2]):
        y = be.linear(p, values, x, bias)
        assert y.shape == (batch, 9)
        torch.testing.assert_close(y, x @ w.t() + bias, **_tol(torch.float32))
        torch.testing.assert_close(be.linear(p, values, x, None), x @ w.t(), **_tol(torch.float32))


def test_inference_linear_sees_parameter_updates():
    # the numba path caches numpy views of the parameters: in-place updates and replaced tensors must show
    p, w, mask, values, xt, gt, bias = _problem(9, 12, 0.3, 1)
    be = BACKENDS.get("numba")
    x = xt.t().contiguous()
    v = values.clone()
    be.linear(p, v, x, bias)
    v.mul_(2)  # in place: same storage
    torch.testing.assert_close(be.linear(p, v, x, bias), x @ (2 * w).t() + bias)
    v2 = values.clone() * 3  # another tensor
    torch.testing.assert_close(be.linear(p, v2, x, None), x @ (3 * w).t())
    b2 = bias.clone()
    b2.data = bias * 0  # storage replaced under the same tensor
    torch.testing.assert_close(be.linear(p, v2, x, b2), x @ (3 * w).t())


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
# from (515, 9) on: tall inputs (blocks of input rows, partial ones and remainders) and few-row outputs
@pytest.mark.parametrize("shape", [(1, 1), (1, 70), (70, 1), (15, 63), (16, 64), (17, 65), (130, 200), (9, 515), (515, 9),
                                   (301, 70), (600, 24), (1030, 130), (131, 129), (64, 63), (67, 66)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_feature_major_is_an_exact_transposed_copy(name, parallel, shape, dtype, monkeypatch):
    if parallel:
        monkeypatch.setattr("sparsenet.kernels.backends.PARALLEL_MIN_WORK", 0)
    be = BACKENDS.get(name)
    x = torch.randn(*shape, dtype=dtype)
    xt = be.feature_major(x)
    assert xt.shape == shape[::-1] and xt.is_contiguous() and xt.dtype == dtype
    assert torch.equal(xt, x.t())
    assert xt.data_ptr() != x.data_ptr() or 1 in shape  # a copy (a 1-wide tensor is its own transpose)
    view = torch.randn(shape[1], shape[0], dtype=dtype).t()  # already a transposed contiguous tensor: free
    assert be.feature_major(view).data_ptr() == view.data_ptr()
    strided = torch.randn(shape[0], 2 * shape[1], dtype=dtype)[:, ::2]  # neither layout: still exact
    assert torch.equal(be.feature_major(strided), strided.t())


def test_feature_major_of_a_tensor_requiring_grad():
    x = torch.randn(40, 24, requires_grad=True)
    xt = BACKENDS.get("numba").feature_major(x)
    assert torch.equal(xt, x.detach().t()) and not xt.requires_grad


def test_scatter_widths_are_the_narrow_tile_widths():
    # every narrow batch (2..16) has a scatter kernel for its input gradient, of the forward tile's width
    from sparsenet.kernels import codegen

    assert codegen.SCATTER_WIDTHS == codegen.NARROW_WIDTHS
    assert all(codegen.scatter_width(B) == codegen.narrow_width(B) for B in range(2, codegen.NARROW + 1))
