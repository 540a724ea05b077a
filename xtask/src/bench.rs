pub fn bench(_args: &[String]) -> crate::Result {
    Err("not yet".into())
}
