// A forward graph with softmax before the loss: softmax has no gradient rule.
func @m(%x: tensor<?x4xf32> {lenet.name = "x"}, %y: tensor<?xi32> {lenet.classes = 3 : i64, lenet.name = "y"}) -> (tensor<f32>, tensor<?x3xf32>) {
  %w = lenet.param "d.w", "weight" : tensor<3x4xf32>
  %b = lenet.param "d.b", "bias" : tensor<3xf32>
  %d = lenet.dense %x, %w, %b {name = "d", units = 3} : (tensor<?x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  %p = lenet.softmax %d {name = "p"} : (tensor<?x3xf32>) -> tensor<?x3xf32>
  %l = lenet.softmax_cross_entropy %p, %y {name = "loss"} : (tensor<?x3xf32>, tensor<?xi32>) -> tensor<f32>
  lenet.return %l, %p : tensor<f32>, tensor<?x3xf32>
}
