//! Budget accounting.

use converge_pool::{Budget, BudgetExceeded};

#[test]
fn reserve_release_and_refusal() {
    let mut b = Budget::new(100);
    assert_eq!((b.limit(), b.used(), b.available()), (100, 0, 100));
    b.try_reserve(30).unwrap();
    b.try_reserve(70).unwrap();
    assert_eq!(b.available(), 0);
    assert_eq!(
        b.try_reserve(1),
        Err(BudgetExceeded {
            requested: 1,
            available: 0
        })
    );
    assert_eq!(b.used(), 100, "a refused reservation changes nothing");
    b.release(30);
    assert_eq!((b.used(), b.available()), (70, 30));
    b.release(1_000);
    assert_eq!(b.used(), 0, "over-release saturates at zero");
    b.try_reserve(0).unwrap();
    assert_eq!(b.used(), 0);
}

#[test]
fn items_reservation_multiplies_and_checks_overflow() {
    let mut b = Budget::new(64);
    assert_eq!(b.try_reserve_items::<u64>(3), Ok(24));
    assert_eq!(b.used(), 24);
    let err = b.try_reserve_items::<u64>(6).unwrap_err();
    assert_eq!((err.requested, err.available), (48, 40));
    let err = b.try_reserve_items::<u64>(usize::MAX).unwrap_err();
    assert_eq!(err.requested, usize::MAX);
    assert_eq!(b.used(), 24);
    assert_eq!(b.try_reserve_items::<()>(usize::MAX), Ok(0));
}

#[test]
fn unlimited_budget() {
    let mut b = Budget::default();
    assert!(b.is_unlimited());
    assert!(!Budget::new(5).is_unlimited());
    b.try_reserve(usize::MAX / 2).unwrap();
    b.try_reserve(usize::MAX / 2).unwrap();
    assert_eq!(b.available(), 1);
    let msg = b.try_reserve(2).unwrap_err().to_string();
    assert!(
        msg.contains("requested 2 bytes") && msg.contains("1 available"),
        "{msg}"
    );
}
