"""Numpy kernels of TF ops, grouped by family. Importing this package registers them all.

Each family module is listed here explicitly; adding a family means adding a line.
"""
from importlib import import_module

FAMILIES = [
    "math_ops",          # elementwise binary/unary arithmetic and their *Grad helpers
    "logic_ops",         # comparisons, logical, Select, Cast, ClipByValue, AddN, Bucketize
    "matmul_ops",        # MatMul, SparseMatMul, BatchMatMul/V2/V3, Einsum
    "reduction_ops",     # Sum/Mean/Max/... with axis tensors, ArgMax/ArgMin, Cumsum/Cumprod
    "segment_ops",       # Segment*, UnsortedSegment*, SparseSegment* (+grads), Bincount
    "array_ops",         # Const, Placeholder, Identity*, CheckNumerics, EnsureShape, Assert
    "shape_ops",         # Shape/Size/Rank, Reshape, ExpandDims, Squeeze, Broadcast*, Fill, Range
    "join_ops",          # Concat, Pack/Unpack, Split, Tile, Pad, MirrorPad, Transpose, Reverse
    "slicing_ops",       # Slice, StridedSlice, StridedSliceGrad
    "index_ops",         # Gather*, ScatterNd, TensorScatter*, SparseToDense, OneHot, Where
    "diag_ops",          # MatrixBandPart, Diag/DiagPart, MatrixDiag/DiagPart/SetDiag V1-V3
    "partition_ops",     # Unique*, ListDiff, DynamicPartition, DynamicStitch
    "search_ops",        # LowerBound, UpperBound (batched searchsorted)
    "space_ops",         # SpaceToBatchND, BatchToSpaceND, SpaceToDepth, DepthToSpace, ReverseSequence
    "nn_ops",            # activations, bias, softmax + losses, L2Loss
    "topk_ops",          # TopKV2, InTopKV2/InTopK, NthElement
    "conv_ops",          # Conv2D and its backprops (im2col + matmul)
    "depthwise_ops",     # DepthwiseConv2dNative and its backprops
    "pool_ops",          # MaxPool/AvgPool and their gradients
    "pool_argmax_ops",   # MaxPoolWithArgmax, MaxPoolGradWithArgmax
    "conv3d_ops",        # Conv3D and its backprops
    "pool3d_ops",        # MaxPool3D/AvgPool3D and their gradients
    "norm_ops",          # FusedBatchNorm V1-V3, LRN and their gradients
    "state_ops",         # ref and resource variables, assign*, scatter*
    "training_ops",      # Apply*/ResourceApply*/ResourceSparseApply* optimizers
    "random_ops",        # Philox-exact RandomUniform/Normal/TruncatedNormal/UniformInt
    "summary_ops",       # ScalarSummary, HistogramSummary, MergeSummary
    "io_ops",            # SaveV2, RestoreV2, MergeV2Checkpoints, ShardedFilename, string ops
    "io_print_ops",      # PrintV2 (tf.print), Abort
    "control_flow_ops",  # v1 frames: Enter/Exit/Switch/Merge/NextIteration/LoopCond, Assert, NoOp
    "functional_ops",    # v2: While/If/PartitionedCall over the function library
    "collection_ops",    # Stack*V2 + shapes/handles shared by the next three
    "tensor_array_ops",  # TensorArray*V3 (v1 dynamic_rnn, while-loop backprop)
    "tensor_array_v2_ops",  # TensorArray*V2 (graphs of GraphDef producer < 26) over the V3 kernels
    "list_ops",          # TensorList creation and reads (v2 StatelessWhile accumulators)
    "list_edit_ops",     # TensorList push/pop/set/resize/concat, variant list arithmetic
    "list_concat_ops",   # TensorListConcatLists
]

for _name in FAMILIES:
    import_module(f"orchestrator.ops.{_name}")
