"""The graph side: TF1 meta graphs in (``load``), a plain graph model (``model``), meta graphs out (``export``).

Modules: ``model`` (Graph/Operation/Tensor, collections, default graph), ``attrs`` (AttrValue and
TensorProto codec), ``op_defs`` (OpDef lookup and output typing), ``names`` (scopes, ``_1``
renaming), ``meta_io`` (reading and recognising files), ``nodes`` (NodeDefs → staged ops),
``collections`` (GraphKeys, VariableInfo), ``load``, ``export``, ``saver_graph`` (TF's default
Saver subgraph), ``devices`` (DeviceSpec, devices used, colocation groups), ``device_map``
(the validated per-cluster rewrite of device fields).
"""
