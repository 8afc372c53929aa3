// Original file: src/cri/api.proto


export interface MetricDescriptor {
  'name'?: (string);
  'help'?: (string);
  'labelKeys'?: (string)[];
}

export interface MetricDescriptor__Output {
  'name': (string);
  'help': (string);
  'labelKeys': (string)[];
}
