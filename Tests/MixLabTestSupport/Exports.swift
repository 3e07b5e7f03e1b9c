@_exported import MixLabProcess
