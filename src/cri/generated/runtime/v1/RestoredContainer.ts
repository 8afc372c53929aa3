// Original file: src/cri/api.proto


export interface RestoredContainer {
  'name'?: (string);
  'containerId'?: (string);
}

export interface RestoredContainer__Output {
  'name': (string);
  'containerId': (string);
}
