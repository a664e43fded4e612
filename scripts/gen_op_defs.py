"""Generate orchestrator/graph/op_defs.binpb: the OpDefs of op types TF1 training graphs use.

Meta graphs normally carry the op defs they need (``meta_info_def.stripped_op_list``);
this table is the fallback for graphs that lack them and for ops that orchestrator
itself creates (a Saver over a var list). It is generated from real TensorFlow's op
registry, restricted to the op types listed below, every op type that has a kernel in
orchestrator/ops (so any graph the executor can run can also be typed without its own op
list), and every op type used by the meta graphs under tests/fixtures, with descriptions
and summaries stripped. ``tests/test_op_defs_coverage.py`` fails when a kernel's op type
is missing from the table: rerun this script after adding kernels.

Run with the TensorFlow venv:  /work/tfvenv/bin/python scripts/gen_op_defs.py
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "orchestrator" / "graph" / "op_defs.binpb"

# By family, as in orchestrator/ops/__init__.py.
OP_TYPES = """
Abs Acos Acosh Add AddN AddV2 All Any ApproximateEqual ArgMax ArgMin Asin Asinh Atan Atan2 Atanh
BatchMatMul BatchMatMulV2 BatchMatMulV3 Betainc BiasAdd BiasAddGrad BiasAddV1 Bucketize Cast Ceil
ClipByValue Complex ComplexAbs Conj Cos Cosh Cross Cumprod Cumsum DivNoNan Digamma Div Equal Erf Erfc
Exp Expm1 Floor FloorDiv FloorMod Greater GreaterEqual Igamma Igammac Imag Inv InvGrad IsFinite IsInf
IsNan L2Loss Lgamma Less LessEqual Log Log1p LogicalAnd LogicalNot LogicalOr MatMul Max Maximum Mean
Min Minimum Mod Mul MulNoNan Neg NextAfter NotEqual Pow Prod Range Real RealDiv Reciprocal
ReciprocalGrad Rint Round Rsqrt RsqrtGrad Select SelectV2 Sigmoid SigmoidGrad Sign Sin Sinh Softplus
SoftplusGrad Softsign SoftsignGrad Sqrt SqrtGrad Square SquaredDifference Sub Sum Tan Tanh TanhGrad
TruncateDiv TruncateMod UnsortedSegmentMax UnsortedSegmentMin UnsortedSegmentProd UnsortedSegmentSum
SegmentSum SegmentMean SegmentMax SparseSegmentSum SparseSegmentMean SparseSegmentSqrtN
SparseSegmentMeanGrad SparseSegmentSqrtNGrad Xdivy Xlogy Xlog1py Zeta EuclideanNorm
BroadcastArgs BroadcastGradientArgs BroadcastTo CheckNumerics Concat ConcatOffset ConcatV2 Const
DeepCopy DynamicPartition DynamicStitch Empty ExpandDims Fill Gather GatherNd GatherV2 Identity
IdentityN InvertPermutation ListDiff MatrixBandPart MatrixDiag MatrixDiagPart MatrixSetDiag
MirrorPad MirrorPadGrad OneHot OnesLike Pack Pad PadV2 ParallelConcat ParallelDynamicStitch Placeholder
PlaceholderWithDefault PreventGradient Rank Reshape ResourceGather ResourceGatherNd Reverse ReverseV2
ReverseSequence ScatterNd Shape ShapeN Size Slice Snapshot Split SplitV Squeeze StopGradient
StridedSlice StridedSliceGrad Tile TileGrad Transpose Unique UniqueV2 Unpack Where ZerosLike
TensorScatterUpdate TensorScatterAdd Bitcast Diag DiagPart EnsureShape
AvgPool AvgPoolGrad BatchNormWithGlobalNormalization Conv2D Conv2DBackpropFilter Conv2DBackpropInput
Conv3D Conv3DBackpropFilterV2 Conv3DBackpropInputV2 DepthwiseConv2dNative
DepthwiseConv2dNativeBackpropFilter DepthwiseConv2dNativeBackpropInput Dilation2D Elu EluGrad
FusedBatchNorm FusedBatchNormGrad FusedBatchNormGradV2 FusedBatchNormGradV3 FusedBatchNormV2
FusedBatchNormV3 InTopK InTopKV2 LRN LRNGrad LeakyRelu LeakyReluGrad LogSoftmax MaxPool MaxPoolGrad
MaxPoolGradV2 MaxPoolV2 MaxPoolGradGrad Relu Relu6 Relu6Grad ReluGrad Selu SeluGrad Softmax
SoftmaxCrossEntropyWithLogits SparseSoftmaxCrossEntropyWithLogits TopKV2 NthElement
Assign AssignAdd AssignSub AssignVariableOp AssignAddVariableOp AssignSubVariableOp
DestroyResourceOp IsVariableInitialized ReadVariableOp ResourceScatterAdd ResourceScatterUpdate
ResourceScatterSub ResourceScatterMul ResourceScatterDiv ResourceScatterMin ResourceScatterMax
ResourceStridedSliceAssign ScatterAdd ScatterSub ScatterUpdate ScatterMul ScatterDiv ScatterMin
ScatterMax ScatterNdUpdate ScatterNdAdd ScatterNdSub ResourceScatterNdUpdate ResourceScatterNdAdd
StridedSliceAssign TemporaryVariable DestroyTemporaryVariable VarHandleOp VarIsInitializedOp Variable
VariableV2 VariableShape CountUpTo ResourceCountUpTo
ApplyAdadelta ApplyAdagrad ApplyAdagradDA ApplyAdagradV2 ApplyAdam ApplyAdaMax ApplyCenteredRMSProp
ApplyFtrl ApplyFtrlV2 ApplyGradientDescent ApplyMomentum ApplyProximalAdagrad
ApplyProximalGradientDescent ApplyRMSProp ApplyAddSign ApplyPowerSign
ResourceApplyAdadelta ResourceApplyAdagrad ResourceApplyAdagradDA ResourceApplyAdagradV2
ResourceApplyAdam ResourceApplyAdaMax ResourceApplyAdamWithAmsgrad ResourceApplyCenteredRMSProp
ResourceApplyFtrl ResourceApplyFtrlV2 ResourceApplyGradientDescent ResourceApplyKerasMomentum
ResourceApplyMomentum ResourceApplyProximalAdagrad ResourceApplyProximalGradientDescent
ResourceApplyRMSProp ResourceApplyAddSign ResourceApplyPowerSign
ResourceSparseApplyAdadelta ResourceSparseApplyAdagrad ResourceSparseApplyAdagradV2
ResourceSparseApplyCenteredRMSProp ResourceSparseApplyFtrl ResourceSparseApplyFtrlV2
ResourceSparseApplyKerasMomentum ResourceSparseApplyMomentum ResourceSparseApplyRMSProp
SparseApplyAdadelta SparseApplyAdagrad SparseApplyAdagradV2 SparseApplyCenteredRMSProp SparseApplyFtrl
SparseApplyFtrlV2 SparseApplyMomentum SparseApplyRMSProp
Multinomial ParameterizedTruncatedNormal RandomGamma RandomPoisson RandomPoissonV2 RandomShuffle
RandomStandardNormal RandomUniform RandomUniformInt TruncatedNormal StatelessRandomUniform
StatelessRandomNormal StatelessTruncatedNormal StatelessRandomUniformV2 StatelessRandomNormalV2
StatelessTruncatedNormalV2 StatelessRandomGetKeyCounter StatelessRandomGetKeyCounterAlg
StatelessRandomUniformInt StatelessRandomUniformIntV2
HistogramSummary ImageSummary MergeSummary ScalarSummary TensorSummary TensorSummaryV2 AudioSummaryV2
MergeV2Checkpoints Restore RestoreSlice RestoreV2 Save SaveSlices SaveV2 ShardedFilename
ShardedFilespec StringJoin StaticRegexFullMatch StaticRegexReplace RegexReplace RegexFullMatch
StringSplit StringSplitV2 StringToNumber StringToHashBucketFast StringToHashBucketStrong
StringToHashBucket AsString ReadFile WriteFile MatchingFiles DecodeRaw DecodeCSV ParseExample
ParseExampleV2 ParseSingleExample ParseSequenceExample DecodeJpeg DecodePng EncodePng DecodeBase64
EncodeBase64 Substr StringLength StringFormat PrintV2 Print
TFRecordReaderV2 TextLineReaderV2 FixedLengthRecordReaderV2 IdentityReaderV2 WholeFileReaderV2
ReaderReadV2 ReaderReadUpToV2 ReaderNumRecordsProducedV2 ReaderResetV2
FIFOQueueV2 PaddingFIFOQueueV2 RandomShuffleQueueV2 PriorityQueueV2 QueueCloseV2 QueueDequeueManyV2
QueueDequeueUpToV2 QueueDequeueV2 QueueEnqueueManyV2 QueueEnqueueV2 QueueSizeV2 QueueIsClosedV2
Abort Assert ControlTrigger Enter Exit LoopCond Merge NextIteration NoOp RefEnter RefExit RefMerge
RefNextIteration RefSwitch RefIdentity RefSelect Switch Timestamp
If StatelessIf While StatelessWhile PartitionedCall StatefulPartitionedCall Case StatelessCase
SymbolicGradient FakeParam
TensorArrayV3 TensorArrayCloseV3 TensorArrayConcatV3 TensorArrayGatherV3 TensorArrayGradV3
TensorArrayGradWithShape TensorArrayReadV3 TensorArrayScatterV3 TensorArraySizeV3 TensorArraySplitV3
TensorArrayWriteV3 StackV2 StackPushV2 StackPopV2 StackCloseV2
EmptyTensorList TensorListFromTensor TensorListGetItem TensorListSetItem TensorListLength
TensorListPushBack TensorListPopBack TensorListReserve TensorListStack TensorListElementShape
TensorListGather TensorListScatterIntoExistingList TensorListConcatV2 TensorListSplit
TensorListResize
OneShotIterator MakeIterator IteratorGetNext IteratorV2 IteratorToStringHandle
IteratorFromStringHandleV2 AnonymousIteratorV2 DeleteIterator TensorDataset TensorSliceDataset
RangeDataset MapDataset ParallelMapDatasetV2 BatchDatasetV2 PaddedBatchDatasetV2 ShuffleDataset
ShuffleDatasetV3 RepeatDataset PrefetchDataset TFRecordDataset TextLineDataset FilterDataset
FlatMapDataset ZipDataset TakeDataset SkipDataset CacheDatasetV2 OptimizeDatasetV2 ModelDataset
DatasetToGraphV2 FixedLengthRecordDatasetV2 InterleaveDataset ParallelInterleaveDatasetV4
HashTableV2 MutableHashTableV2 LookupTableFindV2 LookupTableImportV2 LookupTableInsertV2
LookupTableSizeV2 InitializeTableV2 InitializeTableFromTextFileV2 LookupTableExportV2
""".split()


def kernel_op_types() -> list[str]:
    """Op types registered in orchestrator's kernel registry. The package imports no TF and
    its ops modules no protos, so it loads next to TF in this interpreter."""
    sys.path.insert(0, str(REPO))
    from orchestrator.ops.registry import registered_op_types
    return registered_op_types()


def main() -> int:
    import tensorflow as tf  # noqa: F401  (fills the op registry)
    from tensorflow.core.framework import op_def_pb2
    from tensorflow.core.protobuf import meta_graph_pb2
    from tensorflow.python.framework import op_def_registry

    wanted = set(OP_TYPES) | set(kernel_op_types())
    for meta in (REPO / "tests" / "fixtures").rglob("*.meta"):
        mg = meta_graph_pb2.MetaGraphDef()
        mg.ParseFromString(meta.read_bytes())
        wanted.update(op.name for op in mg.meta_info_def.stripped_op_list.op)
        wanted.update(node.op for node in mg.graph_def.node)

    out = op_def_pb2.OpList()
    missing = []
    for name in sorted(wanted):
        op_def = op_def_registry.get(name)
        if op_def is None:
            missing.append(name)
            continue
        entry = out.op.add()
        entry.CopyFrom(op_def)
        entry.ClearField("summary")
        entry.ClearField("description")
        for arg in list(entry.input_arg) + list(entry.output_arg):
            arg.ClearField("description")
        for attr in entry.attr:
            attr.ClearField("description")
    OUT.write_bytes(out.SerializeToString(deterministic=True))
    print(f"wrote {len(out.op)} op defs ({OUT.stat().st_size} bytes) to {OUT}")
    if missing:
        print("not in TF's registry (skipped):", " ".join(missing), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
