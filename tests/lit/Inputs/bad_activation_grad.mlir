// lenet.relu_grad's second operand must be a lenet.relu's result: here it is a sigmoid's.
func @m(%x: tensor<?x4xf32> {lenet.name = "x"}, %y: tensor<?xi32> {lenet.classes = 4 : i64, lenet.name = "y"}) -> (tensor<f32>, tensor<?x4xf32>) {
  %s = lenet.sigmoid %x {name = "s"} : (tensor<?x4xf32>) -> tensor<?x4xf32>
  %g = lenet.relu_grad %x, %s {name = "g"} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  %l = lenet.softmax_cross_entropy %g, %y {name = "loss"} : (tensor<?x4xf32>, tensor<?xi32>) -> tensor<f32>
  lenet.return %l, %g : tensor<f32>, tensor<?x4xf32>
}
