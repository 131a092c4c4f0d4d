"""Probes for assignment 1: grader code that runs next to the student's code, in its process.

Memory sharing can only be seen where the memory is: these change the source
of a conversion after the student's function returned, and hand back the
result, which reflects the change only if the two share memory.
"""

import torch


def after_array_changes(student, array, sentinel):
    """tensor_sharing_memory(array), then array[0] = sentinel: the tensor as it is then."""
    result = student.tensor_sharing_memory(array)
    array.reshape(-1)[0] = sentinel
    return result


def after_tensor_changes(student, tensor, sentinel):
    """numpy_from_tensor(tensor), then tensor[0] = sentinel: the array as it is then."""
    result = student.numpy_from_tensor(tensor)
    with torch.no_grad():
        tensor.reshape(-1)[0] = sentinel
    return result
