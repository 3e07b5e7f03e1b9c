import MixingLaws
