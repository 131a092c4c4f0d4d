"""An example submission for assignment 1 that earns full marks."""
import numpy as np
import torch


def tensor_from_list(values):
    return torch.tensor(values)


def tensor_sharing_memory(array):
    return torch.from_numpy(array)


def numpy_from_tensor(t):
    return t.detach().cpu().numpy()


def like(t):
    return {"zeros": torch.zeros_like(t), "ones": torch.ones_like(t), "rand": torch.rand_like(t)}


def tensor_info(t):
    return {"shape": tuple(t.shape), "dtype": str(t.dtype), "device": str(t.device), "ndim": t.ndim}


def elementwise(x, y):
    return x + y, x - y, x * y, x / y, x ** y, torch.exp(x)


def concatenate(x, y):
    return torch.cat((x, y), dim=0), torch.cat((x, y), dim=1)


def pick(x):
    return {"last_row": x[-1], "rows_1_2": x[1:3], "row_0_first_two": x[0][0:2], "column_1": x[:, 1]}


def fill_rows(x, value):
    y = x.clone()
    y[0:2, :] = value
    return y


def flatten_samples(images):
    return images.reshape(len(images), -1)


def make_batches(data, batch_size=128):
    return list(torch.split(data, batch_size))


def vector_norms(v):
    return torch.abs(v).sum(), torch.sqrt(torch.sum(v * v))


def frobenius_norm(m):
    return torch.sqrt(torch.sum(m * m))


def is_symmetric(a, tol=1e-6):
    if a.shape[0] != a.shape[-1] or a.ndim != 2:
        return False
    return bool((a - a.T).abs().max() <= tol)


def is_orthogonal(q, tol=1e-5):
    if q.ndim != 2 or q.shape[0] != q.shape[1]:
        return False
    return bool((q.T @ q - torch.eye(len(q), dtype=q.dtype, device=q.device)).abs().max() <= tol)


def matrix_product(a, b):
    return torch.matmul(a, b)


def transpose(a):
    return a.T
