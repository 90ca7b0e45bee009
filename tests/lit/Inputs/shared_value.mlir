// %h is used twice (h + h): its gradient is the sum of the two uses' gradients.
func @m(%x: tensor<?x4xf32> {lenet.name = "x"}, %y: tensor<?xi32> {lenet.classes = 3 : i64, lenet.name = "y"}) -> (tensor<f32>, tensor<?x3xf32>) {
  %w = lenet.param "d.w", "weight" : tensor<3x4xf32>
  %b = lenet.param "d.b", "bias" : tensor<3xf32>
  %h = lenet.dense %x, %w, %b {name = "h", units = 3} : (tensor<?x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  %s = lenet.add %h, %h {name = "s"} : (tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x3xf32>
  %l = lenet.softmax_cross_entropy %s, %y {name = "loss"} : (tensor<?x3xf32>, tensor<?xi32>) -> tensor<f32>
  lenet.return %l, %s : tensor<f32>, tensor<?x3xf32>
}
