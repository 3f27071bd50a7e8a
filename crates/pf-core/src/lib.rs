pub fn hello() -> f64 { tch::Tensor::from_slice(&[1.0f32, 2.0]).sum(tch::Kind::Float).double_value(&[]) }
#[test]
fn t() { assert_eq!(hello(), 3.0); }
